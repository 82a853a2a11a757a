//! [`Reply`]: a single-threaded one-shot future, resolved by the driver when the server
//! answers (or the request fails). Needs no executor-specific code: it works with
//! `wasm_bindgen_futures::spawn_local`, Leptos' `spawn_local`/resources, or any other.

use crate::Error;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

struct Slot<T> {
    result: Option<Result<T, Error>>,
    waker: Option<Waker>,
}

/// Resolves to `Ok` once the server confirmed the request (`()` for subscribe and the like,
/// a [`crate::PublishAck`] for a publish), or to the error that ended it. Dropping it does not
/// cancel the request.
#[must_use = "a Reply does nothing unless awaited; drop it to ignore the outcome"]
pub struct Reply<T = ()> {
    slot: Rc<RefCell<Slot<T>>>,
}

/// The resolving half of a [`Reply`].
pub(crate) struct Resolver<T = ()> {
    slot: Rc<RefCell<Slot<T>>>,
}

/// A connected pair.
pub(crate) fn channel<T>() -> (Resolver<T>, Reply<T>) {
    let slot = Rc::new(RefCell::new(Slot {
        result: None,
        waker: None,
    }));
    (Resolver { slot: slot.clone() }, Reply { slot })
}

impl<T> Resolver<T> {
    pub(crate) fn resolve(self, result: Result<T, Error>) {
        let waker = {
            let mut slot = self.slot.borrow_mut();
            slot.result = Some(result);
            slot.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T: Clone> Reply<T> {
    /// The outcome, if already known (without awaiting).
    pub fn try_result(&self) -> Option<Result<T, Error>> {
        self.slot.borrow().result.clone()
    }
}

impl<T> Future for Reply<T> {
    type Output = Result<T, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = self.slot.borrow_mut();
        match slot.result.take() {
            Some(result) => Poll::Ready(result),
            None => {
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use howl_client_core::ClientError;
    use std::sync::Arc;
    use std::task::Wake;

    struct Flag(std::sync::atomic::AtomicBool);
    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn resolves_and_wakes() {
        let (resolver, mut reply) = channel::<()>();
        let flag = Arc::new(Flag(false.into()));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut reply).poll(&mut cx).is_pending());
        resolver.resolve(Err(ClientError::Closed.into()));
        assert!(flag.0.load(std::sync::atomic::Ordering::SeqCst));
        assert_eq!(
            Pin::new(&mut reply).poll(&mut cx),
            Poll::Ready(Err(Error::Client(ClientError::Closed)))
        );
    }
}

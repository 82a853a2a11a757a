//! The I/O engine: runs a [`ClientSession`] over a browser `WebSocket` and one `setTimeout`, and
//! dispatches its events to listeners and pending requests.
//!
//! Re-entrancy: user callbacks run only while no `RefCell` is borrowed, and one at a time.
//! Events are queued and delivered by a single dispatch loop, so a callback may call back
//! into the client (subscribe, disconnect, …): the events that causes are delivered after it
//! returns, in order.
//!
//! Lifetime: while the session is not closed, the engine holds a strong reference to itself
//! (like a browser `WebSocket` that stays alive while open); socket handlers, the timer
//! callback and token requests in progress hold only weak ones. Reaching the closed state
//! releases everything: socket and its handlers, the timer and its callback, the token
//! callbacks, listeners, and that self-reference.

use crate::lifecycle::PageListeners;
use crate::platform::{self, Timeout};
use crate::tokens::{TokenCallbacks, TokenJob};
use crate::Error;
use howl_client_core::{
    ClientError, ClientSession, ConnectionState, Event, Output, PublishAck, RequestId,
};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

mod socket;
use socket::Socket;

/// A callback waiting for one outcome.
pub(crate) type Completion = Box<dyn FnOnce(Result<(), Error>)>;

/// A callback waiting for a publish's answer.
pub(crate) type PublishCompletion = Box<dyn FnOnce(Result<PublishAck, Error>)>;

/// A callback waiting for a read's answer: the [`Event::HistoryDone`] or
/// [`Event::PresenceDone`] that settles it.
pub(crate) type ReadCompletion = Box<dyn FnOnce(&Event)>;

/// A listener's callback.
pub(crate) type Callback = Box<dyn FnMut(&Event)>;

/// A registered listener; `active` turns false when removed, even mid-dispatch.
pub(crate) struct Listener {
    pub(crate) active: Cell<bool>,
    pub(crate) callback: RefCell<Callback>,
}

pub(crate) struct Engine {
    core: RefCell<Core>,
    pub(crate) listeners: RefCell<Vec<(u64, Rc<Listener>)>>,
    next_listener: Cell<u64>,
    queue: RefCell<VecDeque<Event>>,
    dispatching: Cell<bool>,
}

struct Core {
    session: ClientSession,
    url: String,
    socket: Option<Socket>,
    timeout: Option<Timeout>,
    /// The `setTimeout` handler, created once and reused.
    timer_callback: Option<Closure<dyn FnMut()>>,
    // Few at a time: a Vec keeps the wasm smaller than a map would.
    waiters: Vec<(RequestId, Completion)>,
    publish_waiters: Vec<(RequestId, PublishCompletion)>,
    read_waiters: Vec<(RequestId, ReadCompletion)>,
    open_waiters: Vec<Completion>,
    /// The page's visibility and network listeners (none outside a window).
    page: Option<PageListeners>,
    /// Keeps the engine alive while the session is not closed.
    keep_alive: Option<Rc<Engine>>,
    /// The application's `get_token` and `get_subscription_token`.
    tokens: TokenCallbacks,
    released: bool,
}

impl Engine {
    /// Creates the engine and starts connecting.
    pub(crate) fn start(session: ClientSession, url: String, tokens: TokenCallbacks) -> Rc<Self> {
        let engine = Rc::new(Self {
            core: RefCell::new(Core {
                session,
                url,
                socket: None,
                timeout: None,
                timer_callback: None,
                waiters: Vec::new(),
                publish_waiters: Vec::new(),
                read_waiters: Vec::new(),
                open_waiters: Vec::new(),
                page: None,
                keep_alive: None,
                tokens,
                released: false,
            }),
            listeners: RefCell::new(Vec::new()),
            next_listener: Cell::new(1),
            queue: RefCell::new(VecDeque::new()),
            dispatching: Cell::new(false),
        });
        engine.core.borrow_mut().keep_alive = Some(engine.clone());
        let page = PageListeners::attach(Rc::downgrade(&engine));
        if let Some(page) = &page {
            let (hidden, online) = (page.hidden(), page.online());
            let mut core = engine.core.borrow_mut();
            let now = platform::now_ms();
            core.session.on_visibility(hidden, now);
            core.session.on_network(online, now);
        }
        engine.core.borrow_mut().page = page;
        engine.input(|s, now| s.connect(now));
        engine
    }

    /// Feeds one input to the session, then carries out its outputs and delivers its events.
    pub(crate) fn input<R>(self: &Rc<Self>, f: impl FnOnce(&mut ClientSession, u64) -> R) -> R {
        let result = {
            let mut core = self.core.borrow_mut();
            let now = platform::now_ms();
            f(&mut core.session, now)
        };
        self.pump();
        result
    }

    /// Reads the session without feeding it.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&ClientSession) -> R) -> R {
        f(&self.core.borrow().session)
    }

    /// Starts a request and calls `done` with its outcome. The completion is registered
    /// before the session's events are delivered, so an outcome known at once (an invalid
    /// channel, a closed session) reaches it too.
    pub(crate) fn request(
        self: &Rc<Self>,
        f: impl FnOnce(&mut ClientSession, u64) -> RequestId,
        done: Completion,
    ) {
        {
            let mut core = self.core.borrow_mut();
            let id = f(&mut core.session, platform::now_ms());
            core.waiters.push((id, done));
        }
        self.pump();
    }

    /// Starts a confirmed publish and calls `done` with its answer (registered before the
    /// session's events are delivered, like [`Engine::request`]).
    pub(crate) fn publish(
        self: &Rc<Self>,
        f: impl FnOnce(&mut ClientSession, u64) -> RequestId,
        done: PublishCompletion,
    ) {
        {
            let mut core = self.core.borrow_mut();
            let id = f(&mut core.session, platform::now_ms());
            core.publish_waiters.push((id, done));
        }
        self.pump();
    }

    /// Starts a history or presence read and calls `done` with the event that answers it
    /// (registered before the session's events are delivered, like [`Engine::request`]).
    pub(crate) fn read_request(
        self: &Rc<Self>,
        f: impl FnOnce(&mut ClientSession, u64) -> RequestId,
        done: ReadCompletion,
    ) {
        {
            let mut core = self.core.borrow_mut();
            let id = f(&mut core.session, platform::now_ms());
            core.read_waiters.push((id, done));
        }
        self.pump();
    }

    /// Calls `done` once the session is open (now, if it is), or with the error that closed
    /// it first.
    pub(crate) fn await_open(&self, done: Completion) {
        let state = self.read(|s| s.state());
        match state {
            ConnectionState::Open => done(Ok(())),
            ConnectionState::Closed => done(Err(ClientError::Closed.into())),
            _ => self.core.borrow_mut().open_waiters.push(done),
        }
    }

    pub(crate) fn add_listener(&self, callback: Callback) -> u64 {
        let id = self.next_listener.get();
        self.next_listener.set(id + 1);
        let listener = Rc::new(Listener {
            active: Cell::new(true),
            callback: RefCell::new(callback),
        });
        if !self.core.borrow().released {
            self.listeners.borrow_mut().push((id, listener));
        }
        id
    }

    pub(crate) fn remove_listener(&self, id: u64) -> bool {
        let mut listeners = self.listeners.borrow_mut();
        match listeners.iter().position(|(i, _)| *i == id) {
            Some(index) => {
                listeners.remove(index).1.active.set(false);
                true
            }
            None => false,
        }
    }

    /// Whether a `setTimeout` is pending (for diagnostics and tests).
    pub(crate) fn timer_pending(&self) -> bool {
        self.core.borrow().timeout.is_some()
    }

    /// Whether everything was released (the session reached the closed state).
    pub(crate) fn released(&self) -> bool {
        self.core.borrow().released
    }

    fn pump(self: &Rc<Self>) {
        let mut token_jobs = Vec::new();
        let tokens = {
            let mut core = self.core.borrow_mut();
            while let Some(output) = core.session.poll_output() {
                match output {
                    Output::OpenSocket => self.open_socket(&mut core),
                    Output::Send(frame) => {
                        if let Some(socket) = &core.socket {
                            // Fails only if the socket is closing; its close event follows.
                            let _ = socket.ws.send_with_str(&frame);
                        }
                    }
                    Output::Close { code, reason } => {
                        if let Some(socket) = core.socket.take() {
                            let _ = socket.ws.close_with_code_and_reason(code, reason);
                        }
                    }
                    Output::Event(event) => self.queue.borrow_mut().push_back(event),
                    Output::GetToken(request) => token_jobs.push(TokenJob::Connection(request)),
                    Output::GetSubscriptionToken { request, channel } => {
                        token_jobs.push(TokenJob::Subscription(request, channel))
                    }
                }
            }
            self.schedule_timer(&mut core);
            (!token_jobs.is_empty()).then(|| core.tokens.clone())
        };
        if let Some(tokens) = tokens {
            for job in token_jobs {
                job.run(&tokens, Rc::downgrade(self));
            }
        }
        self.dispatch();
    }

    /// Keeps exactly one `setTimeout` pending, for the session's next deadline.
    fn schedule_timer(self: &Rc<Self>, core: &mut Core) {
        let deadline = core.session.next_deadline();
        if core.timeout.as_ref().map(|t| t.deadline) == deadline {
            return;
        }
        core.timeout = None; // clears the old one
        if let Some(deadline) = deadline {
            let handler = core.timer_callback.get_or_insert_with(|| {
                let weak = Rc::downgrade(self);
                Closure::<dyn FnMut()>::new(move || {
                    with(&weak, |e| {
                        // Fired: clearing it now is a harmless no-op; then run due timers.
                        e.core.borrow_mut().timeout = None;
                        e.input(|s, now| s.tick(now));
                    })
                })
            });
            let handler: &js_sys::Function = handler.as_ref().unchecked_ref();
            core.timeout = Some(Timeout::start(handler, deadline, platform::now_ms()));
        }
    }

    /// Delivers queued events, one at a time, unless a dispatch is already running further
    /// up the stack (it will deliver them).
    fn dispatch(self: &Rc<Self>) {
        if self.dispatching.replace(true) {
            return;
        }
        loop {
            let Some(event) = self.queue.borrow_mut().pop_front() else {
                break;
            };
            self.deliver(&event);
        }
        self.dispatching.set(false);
        if self.read(|s| s.state()) == ConnectionState::Closed {
            self.release();
        }
    }

    fn deliver(self: &Rc<Self>, event: &Event) {
        match event {
            Event::RequestDone { id, result } => {
                let waiter = {
                    let mut core = self.core.borrow_mut();
                    let index = core.waiters.iter().position(|(i, _)| i == id);
                    index.map(|index| core.waiters.remove(index).1)
                };
                if let Some(done) = waiter {
                    done(result.clone().map_err(Error::from));
                }
            }
            Event::PublishDone { id, result } => {
                let waiter = {
                    let mut core = self.core.borrow_mut();
                    let index = core.publish_waiters.iter().position(|(i, _)| i == id);
                    index.map(|index| core.publish_waiters.remove(index).1)
                };
                if let Some(done) = waiter {
                    done(result.clone().map_err(Error::from));
                }
            }
            Event::HistoryDone { id, .. } | Event::PresenceDone { id, .. } => {
                let waiter = {
                    let mut core = self.core.borrow_mut();
                    let index = core.read_waiters.iter().position(|(i, _)| i == id);
                    index.map(|index| core.read_waiters.remove(index).1)
                };
                if let Some(done) = waiter {
                    done(event);
                }
            }
            Event::StateChanged(ConnectionState::Open) => {
                let waiters = std::mem::take(&mut self.core.borrow_mut().open_waiters);
                for done in waiters {
                    done(Ok(()));
                }
            }
            Event::Closed(reason) => {
                let waiters = std::mem::take(&mut self.core.borrow_mut().open_waiters);
                for done in waiters {
                    done(Err(ClientError::from_close(reason).into()));
                }
            }
            Event::ProtocolViolation(what) => platform::console_warn(&format!(
                "howl: ignored a bad frame from the server: {what}"
            )),
            _ => {}
        }
        let listeners: Vec<Rc<Listener>> = self
            .listeners
            .borrow()
            .iter()
            .map(|(_, l)| l.clone())
            .collect();
        for listener in listeners {
            if listener.active.get() {
                (listener.callback.borrow_mut())(event);
            }
        }
    }

    /// The session is closed: stop the timer, drop the socket, and release every callback.
    fn release(&self) {
        let (socket, timeout, timer_callback, tokens, waiters, open_waiters, keep_alive, page) = {
            let mut core = self.core.borrow_mut();
            if core.released {
                return;
            }
            core.released = true;
            (
                core.socket.take(),
                core.timeout.take(),
                core.timer_callback.take(),
                std::mem::take(&mut core.tokens),
                std::mem::take(&mut core.waiters),
                std::mem::take(&mut core.open_waiters),
                core.keep_alive.take(),
                (
                    core.page.take(),
                    std::mem::take(&mut core.publish_waiters),
                    std::mem::take(&mut core.read_waiters),
                ),
            )
        };
        drop((socket, timeout, timer_callback, tokens, page.0));
        // Requests still waiting were already rejected by the session; these never will be.
        drop((waiters, open_waiters, page.1, page.2));
        let listeners = std::mem::take(&mut *self.listeners.borrow_mut());
        for (_, listener) in &listeners {
            listener.active.set(false);
        }
        drop(listeners);
        drop(keep_alive);
    }
}

/// Runs `f` on the engine if it still exists.
pub(crate) fn with(weak: &Weak<Engine>, f: impl FnOnce(&Rc<Engine>)) {
    if let Some(engine) = weak.upgrade() {
        f(&engine);
    }
}

//! One action outcome: green for success, red for an error.

use crate::state::Notice;
use leptos::prelude::*;

/// Shows `notice` as a line styled by its outcome; errors are announced as alerts.
#[component]
pub fn NoticeLine(notice: Notice) -> impl IntoView {
    let (class, role) = if notice.ok {
        ("notice ok", "status")
    } else {
        ("notice error", "alert")
    };
    view! { <p class=class role=role>{notice.text}</p> }
}

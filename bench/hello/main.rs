//! The benchmark's reference page: a hello-world Leptos app with one button, built with the
//! console's release profile and served the same way, so "console interactive" has a floor to be
//! compared with.

use leptos::prelude::*;

fn main() {
    leptos::mount::mount_to_body(|| {
        let (count, set_count) = signal(0);
        view! {
            <button data-testid="hello" on:click=move |_| set_count.update(|n| *n += 1)>
                "Hello " {count}
            </button>
        }
    });
}

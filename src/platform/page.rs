//! The document itself: its theme, the person's kept choice of it, focus, and whether a key went
//! to something being typed into.

use wasm_bindgen::JsCast;

/// Where the theme choice is kept (a word, never anything secret).
const THEME_KEY: &str = "mcp-console.theme";

fn document() -> Option<web_sys::Document> {
    web_sys::window().and_then(|w| w.document())
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

/// The theme chosen on an earlier visit, or "" when none was.
pub fn saved_theme() -> String {
    local_storage().and_then(|s| s.get_item(THEME_KEY).ok().flatten()).unwrap_or_default()
}

/// Shows the page in `theme` (`data-theme` on the root element, which the stylesheet reads).
pub fn show_theme(theme: &str) {
    if let Some(root) = document().and_then(|d| d.document_element()) {
        let _ = root.set_attribute("data-theme", theme);
    }
}

/// Keeps the person's choice for the next visit; the system's needs nothing kept.
pub fn keep_theme(theme: &str, system: bool) {
    let Some(storage) = local_storage() else { return };
    let _ =
        if system { storage.remove_item(THEME_KEY) } else { storage.set_item(THEME_KEY, theme) };
}

/// Whether the page shows dark colours: the person's choice, else the system's.
pub fn dark() -> bool {
    let chosen =
        document().and_then(|d| d.document_element()).and_then(|r| r.get_attribute("data-theme"));
    match chosen.as_deref() {
        Some("dark") => true,
        Some("light") => false,
        _ => system_dark().unwrap_or(false),
    }
}

/// `matchMedia("(prefers-color-scheme: dark)").matches`, read without a binding of its own.
fn system_dark() -> Option<bool> {
    let window = web_sys::window()?;
    let query = js_sys::Reflect::get(&window, &"matchMedia".into()).ok()?;
    let query = query.dyn_into::<js_sys::Function>().ok()?;
    let list = query.call1(&window, &"(prefers-color-scheme: dark)".into()).ok()?;
    js_sys::Reflect::get(&list, &"matches".into()).ok()?.as_bool()
}

/// Moves the focus to the element `id`, once the page has drawn it.
pub fn focus(id: &str) {
    let id = id.to_owned();
    leptos::prelude::request_animation_frame(move || {
        let element = document().and_then(|d| d.get_element_by_id(&id));
        if let Some(element) = element.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = element.focus();
        }
    });
}

/// Whether `event` went to a field being typed into, where a key is text, not a command.
pub fn typing(event: &web_sys::KeyboardEvent) -> bool {
    let Some(target) = event.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else {
        return false;
    };
    matches!(target.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
        || target.has_attribute("contenteditable")
}

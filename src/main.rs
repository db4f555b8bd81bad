//! The binary Trunk builds: install the panic hook and mount the console. Everything else lives in
//! the library so that tests can reach it.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(mcp_console::ui::App);
}

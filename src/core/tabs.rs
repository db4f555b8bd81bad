//! The servers open side by side: one tab per server, each with its own connection, sign-in and
//! history (the UI's per-tab state is the payload `T`). The rules live here: a server is open in
//! one tab at most (opening it again brings its tab to the front), a few tabs at most, one tab at
//! least once the first is open (an empty one if the last closes), and which tab comes to the
//! front when one closes.

use crate::core::address::ServerUrl;
use thiserror::Error;

/// More tabs than a person can follow, and each holds a connection.
pub const MAX_TABS: usize = 12;

/// A tab's name for the page (and for tests): stable while the tab lives.
pub type TabId = u32;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TabError {
    #[error("{0} is already open in another tab; the console switched to it.")]
    AlreadyOpen(String),
    #[error("{MAX_TABS} servers are open, the most the console keeps; close a tab first.")]
    TooMany,
}

#[derive(Debug, Clone)]
pub struct Tab<T> {
    pub id: TabId,
    /// The server it is connected to (or was last).
    pub server: Option<ServerUrl>,
    pub payload: T,
}

/// The open tabs, in order, and the one in front.
#[derive(Debug, Clone)]
pub struct Tabs<T> {
    tabs: Vec<Tab<T>>,
    front: TabId,
    next: TabId,
}

impl<T> Default for Tabs<T> {
    fn default() -> Tabs<T> {
        Tabs { tabs: Vec::new(), front: 0, next: 0 }
    }
}

impl<T> Tabs<T> {
    pub fn iter(&self) -> impl Iterator<Item = &Tab<T>> {
        self.tabs.iter()
    }

    pub fn get(&self, id: TabId) -> Option<&Tab<T>> {
        self.tabs.iter().find(|t| t.id == id)
    }

    pub fn front(&self) -> Option<&Tab<T>> {
        self.get(self.front)
    }

    pub fn front_id(&self) -> Option<TabId> {
        self.front().map(|t| t.id)
    }

    /// The tab of `server`, if one is open.
    pub fn find(&self, server: &ServerUrl) -> Option<TabId> {
        self.tabs.iter().find(|t| t.server.as_ref() == Some(server)).map(|t| t.id)
    }

    pub fn bring_to_front(&mut self, id: TabId) {
        if self.get(id).is_some() {
            self.front = id;
        }
    }

    /// A new tab, in front, for `server` if named; a server already open brings its own tab to
    /// the front instead (and says so).
    pub fn open(
        &mut self,
        server: Option<ServerUrl>,
        payload: impl FnOnce(TabId) -> T,
    ) -> Result<TabId, (Option<TabId>, TabError)> {
        if let Some(open) = server.as_ref().and_then(|s| self.find(s)) {
            self.front = open;
            return Err((Some(open), TabError::AlreadyOpen(self.label(open))));
        }
        if self.tabs.len() >= MAX_TABS {
            return Err((None, TabError::TooMany));
        }
        let id = self.next;
        self.next += 1;
        self.tabs.push(Tab { id, server, payload: payload(id) });
        self.front = id;
        Ok(id)
    }

    /// Tab `id` is connecting to `server`: refused if another tab has it (that one comes to the
    /// front).
    pub fn connect(&mut self, id: TabId, server: &ServerUrl) -> Result<(), (TabId, TabError)> {
        if let Some(other) = self.find(server).filter(|other| *other != id) {
            self.front = other;
            return Err((other, TabError::AlreadyOpen(server.to_string())));
        }
        if let Some(tab) = self.tabs.iter_mut().find(|t| t.id == id) {
            tab.server = Some(server.clone());
        }
        Ok(())
    }

    /// Closes tab `id` and gives back its payload; the tab to its right comes to the front (else
    /// the one to its left), and the last tab closing leaves a fresh empty one.
    pub fn close(&mut self, id: TabId, fresh: impl FnOnce(TabId) -> T) -> Option<Tab<T>> {
        let at = self.tabs.iter().position(|t| t.id == id)?;
        let closed = self.tabs.remove(at);
        if self.tabs.is_empty() {
            let _ = self.open(None, fresh);
        }
        if self.front == id
            && let Some(next) = self.tabs.get(at).or(self.tabs.last())
        {
            self.front = next.id;
        }
        Some(closed)
    }

    /// What the tab strip says: the server's host and path, or "New tab".
    pub fn label(&self, id: TabId) -> String {
        match self.get(id).and_then(|t| t.server.as_ref()) {
            Some(server) => label_of(server),
            None => "New tab".to_owned(),
        }
    }
}

/// A server as a tab names it: host (with port) and path, without the scheme.
pub fn label_of(server: &ServerUrl) -> String {
    let url = server.url();
    let host = url.host_str().unwrap_or_default();
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    let path = url.path().trim_end_matches('/');
    format!("{host}{port}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(s: &str) -> ServerUrl {
        ServerUrl::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_server_is_open_in_one_tab_and_opening_it_again_brings_that_tab_forward() {
        let mut tabs = Tabs::default();
        assert_eq!(tabs.front_id(), None);
        assert_eq!(tabs.open(None, |_| "first"), Ok(0));
        let a = server("http://127.0.0.1:3001/mcp");
        assert_eq!(tabs.connect(0, &a), Ok(()));
        let b = tabs.open(None, |_| "second").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(tabs.front_id(), Some(b));
        let again = tabs.open(Some(a.clone()), |_| "third");
        assert!(matches!(again, Err((Some(0), TabError::AlreadyOpen(_)))), "{again:?}");
        assert_eq!(tabs.front_id(), Some(0));
        // The empty tab cannot take a server another tab has.
        assert!(matches!(tabs.connect(b, &a), Err((0, _))));
        assert_eq!(tabs.get(b).and_then(|t| t.server.clone()), None);
        assert_eq!(tabs.label(0), "127.0.0.1:3001/mcp");
        assert_eq!(tabs.label(b), "New tab");
        // Reconnecting a tab to its own server is no conflict.
        assert_eq!(tabs.connect(0, &a), Ok(()));
    }

    #[test]
    fn closing_brings_the_neighbour_forward_and_the_last_leaves_an_empty_tab() {
        let mut tabs = Tabs::default();
        let ids: Vec<TabId> =
            (0..4).map(|n| tabs.open(None, |_| n).unwrap_or_else(|e| panic!("{e:?}"))).collect();
        tabs.bring_to_front(ids[1]);
        assert_eq!(tabs.close(ids[1], |_| 9).map(|t| t.payload), Some(1));
        assert_eq!(tabs.front_id(), Some(ids[2]), "the one to the right");
        tabs.bring_to_front(ids[3]);
        tabs.close(ids[3], |_| 9);
        assert_eq!(tabs.front_id(), Some(ids[2]), "the last: the one to the left");
        tabs.close(ids[0], |_| 9);
        assert_eq!(tabs.front_id(), Some(ids[2]), "another tab's closing leaves the front alone");
        tabs.close(ids[2], |_| 9);
        let only: Vec<(TabId, i32)> = tabs.iter().map(|t| (t.id, t.payload)).collect();
        assert_eq!(only, vec![(4, 9)], "a fresh empty tab, in front");
        assert_eq!(tabs.front_id(), Some(4));
        assert!(tabs.close(77, |_| 9).is_none());
    }

    #[test]
    fn there_is_a_most() {
        let mut tabs = Tabs::default();
        for _ in 0..MAX_TABS {
            assert!(tabs.open(None, |_| ()).is_ok());
        }
        assert!(matches!(tabs.open(None, |_| ()), Err((None, TabError::TooMany))));
        assert_eq!(tabs.iter().count(), MAX_TABS);
    }
}

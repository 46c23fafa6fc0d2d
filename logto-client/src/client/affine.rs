//! One upstream connection per caller connection, for the direct path.
//!
//! A caller on a keep-alive connection sends one request at a time, so the
//! calls made for it can reuse one upstream connection of their own instead
//! of checking one out of hyper-util's pool. The pool's checkout, its keyed
//! maps and the task it spawns per streamed answer to put the connection
//! back cost about 15,600 instructions per request (`scripts/instructions`:
//! the bare hyper proxy at 54,100 with the pool, 38,500 with a connection
//! per caller connection; issue 9).
//!
//! `listen::serve` runs each caller connection inside [`scope`], which gives
//! its task a [`Slot`]. A call made in that task borrows the slot's
//! connection ([`lend`]); the [`Lease`] goes back to the slot when the
//! answer's body has been read to its end, and is dropped (and with it the
//! connection, which hyper closes) when it was not. A call made while
//! another call of the same caller holds the slot (aggregates), for another
//! upstream than the slot's, or outside a caller connection (the MCP
//! adapter's sessions, a user's own client) uses the pool as before.

use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use http::uri::Authority;
use http_body_util::Full;
use hyper::client::conn::http1::SendRequest;

/// A sender on an upstream connection of the direct path.
pub(crate) type Sender = SendRequest<Full<Bytes>>;

tokio::task_local! {
    static SLOT: Slot;
}

/// The upstream connection of one caller connection, when it has one.
#[derive(Clone, Default)]
pub(crate) struct Slot(Arc<Mutex<State>>);

#[derive(Default)]
enum State {
    /// No connection yet, or the last one could not be reused.
    #[default]
    Empty,
    /// A connection to `authority` with no call on it.
    Idle {
        authority: Authority,
        sender: Sender,
    },
    /// A call holds the connection (or is opening one).
    Lent,
}

impl Slot {
    fn set(&self, state: State) -> State {
        let mut held = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        std::mem::replace(&mut *held, state)
    }
}

/// Runs `conn` (a caller connection's future) with a slot of its own.
pub(crate) fn scope<F: std::future::Future>(
    conn: F,
) -> impl std::future::Future<Output = F::Output> {
    SLOT.scope(Slot::default(), conn)
}

/// The calling task's connection to `authority` (`Lease::sender` is `None`
/// when there is none yet: the caller opens one and [`Lease::hold`]s it), or
/// `None` when the pool must send: outside a caller connection, while
/// another call holds the slot, or when the slot's connection goes
/// elsewhere (it stays there for the calls it fits).
pub(crate) fn lend(authority: &Authority) -> Option<Lease> {
    SLOT.try_with(|slot| {
        let sender = match slot.set(State::Lent) {
            State::Empty => None,
            State::Idle {
                authority: held,
                sender,
            } if held == *authority => Some(sender),
            other => {
                slot.set(other);
                return None;
            }
        };
        Some(Lease {
            slot: slot.clone(),
            authority: authority.clone(),
            sender,
            done: false,
        })
    })
    .ok()
    .flatten()
}

/// A call's hold on its caller connection's upstream connection.
pub(crate) struct Lease {
    slot: Slot,
    authority: Authority,
    sender: Option<Sender>,
    /// The answer was read to its end: the connection may carry the next call.
    done: bool,
}

impl Lease {
    /// The connection's sender, when the slot had one: a connection used
    /// before, which may have closed meanwhile.
    pub(crate) fn reused(&mut self) -> Option<&mut Sender> {
        self.sender.as_mut()
    }

    /// Takes `sender` (a new connection) in place of the one held.
    pub(crate) fn hold(&mut self, sender: Sender) -> &mut Sender {
        self.sender.insert(sender)
    }

    /// The answer's body was read to its end: the connection goes back to
    /// the slot for the caller's next call.
    pub(crate) fn give_back(mut self) {
        self.done = true;
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let next = match self.sender.take() {
            Some(sender) if self.done && !sender.is_closed() => State::Idle {
                authority: self.authority.clone(),
                sender,
            },
            // An answer not read to its end leaves the connection unusable
            // (hyper closes it when its body is dropped).
            _ => State::Empty,
        };
        self.slot.set(next);
    }
}

/// Without header values or the connection.
impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease")
            .field("authority", &self.authority)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use hyper_util::rt::TokioIo;

    fn authority(text: &'static str) -> Authority {
        Authority::from_static(text)
    }

    /// An open connection's sender (the connection, over an in-memory pipe,
    /// is returned to be kept alive: dropping it closes the sender).
    async fn open() -> (Sender, impl Sized) {
        let (near, far) = tokio::io::duplex(1024);
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(near))
            .await
            .unwrap();
        (sender, (conn, far))
    }

    #[tokio::test]
    async fn a_slot_lends_its_connection_to_one_call_at_a_time() {
        let here = authority("upstream.test:8080");
        assert!(lend(&here).is_none(), "no slot outside a caller connection");
        scope(async {
            // Empty: the call opens a connection and holds it.
            let mut first = lend(&here).expect("a lease");
            assert!(first.reused().is_none());
            assert!(lend(&here).is_none(), "lent: another call uses the pool");
            let (sender, _conn) = open().await;
            first.hold(sender);
            first.give_back();

            // Idle: the next call to the same upstream reuses it; a call to
            // another upstream does not take it away.
            assert!(lend(&authority("elsewhere.test")).is_none());
            let mut second = lend(&here).expect("a lease");
            assert!(second.reused().is_some(), "the connection given back");

            // Dropped before its answer's end: the next call opens anew.
            drop(second);
            let mut third = lend(&here).expect("a lease");
            assert!(third.reused().is_none());

            // A connection that closed is not kept.
            let (sender, conn) = open().await;
            third.hold(sender);
            drop(conn);
            third.give_back();
            assert!(lend(&here).expect("a lease").reused().is_none());
        })
        .await;
    }
}

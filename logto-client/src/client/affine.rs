//! One upstream connection per caller connection, for the direct path.
//! Calls on it are written and read by [`super::wire`], in the caller's
//! own task.
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
//! connection, which hyper closes) when it was not. When the caller's
//! connection ends, its upstream connection is parked in its API's
//! [`Parked`] set, where the next caller connection's first call finds it:
//! callers that send one request per connection reuse upstream connections
//! too, instead of opening (and leaving in `TIME_WAIT`) one each.
//!
//! A call made while another call of the same caller holds the slot (a
//! handler of one's own making calls concurrently), for another upstream
//! than the slot's, or outside a caller connection (a user's own client, an
//! MCP adapter on stdio) uses hyper-util's pool as before. An MCP session's
//! tool calls, answered on the caller's connection, use its slot too.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::wire::Conn;

/// Most idle connections an API keeps parked; more are closed.
const MAX_PARKED: usize = 256;

/// A parked connection older than this is closed rather than reused, as
/// hyper-util's pool closes its idle ones (and reqwest's).
const PARKED_FOR: Duration = Duration::from_secs(90);

tokio::task_local! {
    static SLOT: Slot;
}

/// Idle upstream connections of one API that no caller connection holds.
#[derive(Debug, Default)]
pub(crate) struct Parked(Mutex<Vec<(Instant, Conn)>>);

impl Parked {
    /// The most recently parked connection still open and young enough.
    fn take(&self) -> Option<Conn> {
        let mut parked = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some((since, mut conn)) = parked.pop() {
            if since.elapsed() < PARKED_FOR && !conn.is_closed() {
                return Some(conn);
            }
        }
        None
    }

    fn park(&self, conn: Conn) {
        let mut parked = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        // Expired ones go now, not only when a call passes them. (One the
        // upstream closed meanwhile is found closed when taken: asking each
        // here would be a read attempt per parked connection.)
        parked.retain(|(since, _)| since.elapsed() < PARKED_FOR);
        if parked.len() < MAX_PARKED {
            parked.push((Instant::now(), conn));
        }
    }
}

/// The upstream connection of one caller connection, when it has one.
#[derive(Clone, Default)]
pub(crate) struct Slot(Arc<SlotState>);

#[derive(Default)]
struct SlotState(Mutex<State>);

#[derive(Default)]
enum State {
    /// No connection yet, or the last one could not be reused.
    #[default]
    Empty,
    /// A connection with no call on it, to the API whose parked
    /// connections are `home` (where it goes when the caller's connection
    /// ends).
    Idle { conn: Conn, home: Arc<Parked> },
    /// A call holds the connection (or is opening one).
    Lent,
}

impl Slot {
    fn set(&self, state: State) -> State {
        let mut held = (self.0).0.lock().unwrap_or_else(PoisonError::into_inner);
        std::mem::replace(&mut *held, state)
    }
}

/// The caller's connection ended (or the last lease of it was dropped
/// after): its idle upstream connection goes to its API's parked ones.
impl Drop for SlotState {
    fn drop(&mut self) {
        let state = std::mem::take(self.0.get_mut().unwrap_or_else(PoisonError::into_inner));
        if let State::Idle { conn, home } = state {
            home.park(conn);
        }
    }
}

/// Runs `conn` (a caller connection's future) with a slot of its own.
pub(crate) fn scope<F: std::future::Future>(
    conn: F,
) -> impl std::future::Future<Output = F::Output> {
    SLOT.scope(Slot::default(), conn)
}

/// The calling task's connection to the API of `home`, else one of its
/// parked connections (`Lease::take` gives it, `None` when there is
/// neither: the caller opens one and [`Lease::hold`]s it); `None` when the pool must
/// send: outside a caller connection, while another call holds the slot, or
/// when the slot's connection goes to another API (it stays there for the
/// calls it fits).
pub(crate) fn lend(home: &Arc<Parked>) -> Option<Lease> {
    SLOT.try_with(|slot| {
        let conn = match slot.set(State::Lent) {
            State::Empty => None,
            State::Idle { conn, home: held } if Arc::ptr_eq(&held, home) => Some(conn),
            other => {
                slot.set(other);
                return None;
            }
        };
        Some(Lease {
            slot: slot.clone(),
            home: Arc::clone(home),
            conn: conn.or_else(|| home.take()),
            done: false,
        })
    })
    .ok()
    .flatten()
}

/// A call's hold on its caller connection's upstream connection.
pub(crate) struct Lease {
    slot: Slot,
    home: Arc<Parked>,
    conn: Option<Conn>,
    /// The answer was read to its end: the connection may carry the next call.
    done: bool,
}

impl Lease {
    /// The connection held (the slot's or a parked one, used before) when
    /// it is still open, taken out to send on; `None` when there is none.
    pub(crate) fn take(&mut self) -> Option<Conn> {
        self.conn
            .take()
            .and_then(|mut conn| (!conn.is_closed()).then_some(conn))
    }

    /// Holds `conn` (the call's connection) while its answer is read.
    pub(crate) fn hold(&mut self, conn: Conn) {
        self.conn = Some(conn);
    }

    /// The connection held, to read the answer from.
    pub(crate) fn held(&mut self) -> Option<&mut Conn> {
        self.conn.as_mut()
    }

    /// The answer's body was read to its end (or no call was sent): the
    /// connection held goes back to the slot for the caller's next call.
    pub(crate) fn give_back(mut self) {
        self.done = true;
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let next = match self.conn.take() {
            Some(conn) if self.done => State::Idle {
                conn,
                home: Arc::clone(&self.home),
            },
            // An answer not read to its end leaves the connection unusable:
            // it is closed (dropped) here.
            _ => State::Empty,
        };
        self.slot.set(next);
    }
}

/// Without the connection.
impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease")
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    /// An open connection over loopback, and its peer (dropping the peer
    /// closes the connection).
    async fn open() -> (Conn, tokio::net::TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let near = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (far, _) = listener.accept().await.unwrap();
        (Conn::tcp(near), far)
    }

    /// Until the connection's end reached its peer.
    async fn closed(mut peer: tokio::net::TcpStream) {
        use tokio::io::AsyncWriteExt as _;
        drop(peer.shutdown().await);
        drop(peer);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    #[tokio::test]
    async fn a_slot_lends_its_connection_to_one_call_at_a_time() {
        let parked = Arc::new(Parked::default());
        assert!(
            lend(&parked).is_none(),
            "no slot outside a caller connection"
        );
        scope(async {
            // Empty: the call opens a connection and holds it.
            let mut first = lend(&parked).expect("a lease");
            assert!(first.take().is_none());
            assert!(lend(&parked).is_none(), "lent: another call uses the pool");
            let (conn, _peer) = open().await;
            first.hold(conn);
            first.give_back();

            // Idle: the next call to the same API reuses it; a call to
            // another API does not take it away.
            assert!(lend(&Arc::new(Parked::default())).is_none());
            let mut second = lend(&parked).expect("a lease");
            let conn = second.take().expect("the connection given back");
            second.hold(conn);

            // Dropped before its answer's end: the next call opens anew.
            drop(second);
            let mut third = lend(&parked).expect("a lease");
            assert!(third.take().is_none());

            // A connection its peer closed is not lent again.
            let (conn, peer) = open().await;
            third.hold(conn);
            third.give_back();
            closed(peer).await;
            assert!(lend(&parked).expect("a lease").take().is_none());
        })
        .await;
        assert!(parked.take().is_none(), "nothing idle to park");
    }

    #[tokio::test]
    async fn an_ended_caller_connection_parks_its_idle_connection() {
        let parked = Arc::new(Parked::default());
        let (conn, _peer) = open().await;
        scope(async {
            let mut lease = lend(&parked).expect("a lease");
            lease.hold(conn);
            lease.give_back();
        })
        .await;
        // The next caller connection's first call gets it, once.
        scope(async {
            let mut lease = lend(&parked).expect("a lease");
            assert!(lease.take().is_some(), "parked when the scope ended");
        })
        .await;
        assert!(parked.take().is_none(), "taken once, then not given back");

        // A parked connection that closes meanwhile is not handed out.
        let (conn, peer) = open().await;
        parked.park(conn);
        closed(peer).await;
        assert!(parked.take().is_none());
    }
}

//! Request framing, followed as a connection's bytes are read, to catch
//! requests whose head has both `Content-Length` and `Transfer-Encoding`.
//!
//! hyper reads such a request as chunked and closes the connection after it
//! (RFC 9112, 6.1), but it drops the `Content-Length` before any handler sees
//! the request, so a handler cannot refuse it. This reader sees the raw bytes
//! first: it finds each request head (skipping bodies by their length or
//! chunks), and records the number of the first ambiguous request on the
//! connection; the service then answers that request 400.
//!
//! It only ever marks a request: when the bytes do not frame as it expects
//! (hyper will refuse them itself), it stops looking.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What the reader and the service of one connection share.
#[derive(Debug, Default)]
pub(crate) struct Marks {
    /// 1-based number of the first request with both headers; 0: none.
    ambiguous: AtomicU64,
    /// Requests the service has started (1-based after the first).
    served: AtomicU64,
}

impl Marks {
    /// Called by the service once per request, in order: whether this
    /// request is the ambiguous one.
    pub(crate) fn next_is_ambiguous(&self) -> bool {
        let n = self.served.fetch_add(1, Ordering::Relaxed) + 1;
        self.ambiguous.load(Ordering::Relaxed) == n
    }
}

#[derive(Debug)]
enum State {
    /// Reading a request head (request line and headers).
    Head,
    /// `n` body bytes left.
    Body(u64),
    /// Reading a chunk-size line.
    ChunkSize,
    /// `n` bytes of chunk data and its CRLF left.
    ChunkData(u64),
    /// Reading trailer lines after the last chunk.
    Trailers,
    /// Not looking any more.
    Off,
}

/// An I/O stream whose reads are followed for request framing. Its first
/// reads give the bytes already read from it by the lean path, if any.
#[derive(Debug)]
pub(crate) struct Framed<IO> {
    inner: IO,
    /// Bytes read from `inner` before it came here, read first.
    pre: bytes::Bytes,
    state: State,
    /// The head or line being assembled.
    line: Vec<u8>,
    requests: u64,
    max_head: usize,
    marks: Arc<Marks>,
}

impl<IO> Framed<IO> {
    pub(crate) fn new(inner: IO, pre: bytes::Bytes, max_head: usize, marks: Arc<Marks>) -> Self {
        Self {
            inner,
            pre,
            state: State::Head,
            line: Vec::new(),
            requests: 0,
            max_head,
            marks,
        }
    }

    /// Follows `bytes`, just read.
    fn follow(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            match self.state {
                State::Off => return,
                State::Body(left) | State::ChunkData(left) => {
                    let take = usize::try_from(left).unwrap_or(usize::MAX).min(bytes.len());
                    bytes = bytes.get(take..).unwrap_or_default();
                    let left = left - take as u64;
                    self.state = match (&self.state, left) {
                        (State::Body(_), 0) => State::Head,
                        (State::ChunkData(_), 0) => State::ChunkSize,
                        (State::Body(_), n) => State::Body(n),
                        (_, n) => State::ChunkData(n),
                    };
                }
                State::Head | State::ChunkSize | State::Trailers => {
                    let (done, rest) = self.take_until_end(bytes);
                    bytes = rest;
                    if !done && self.line.len() > self.max_head {
                        self.state = State::Off;
                    }
                }
            }
        }
    }

    /// Follows bytes up to the end of the current head or line (finishing
    /// it); whether it ended, and what follows. A head or line that begins
    /// and ends within `bytes` (the usual case: a whole head in one read) is
    /// looked at where it lies; only one split across reads is copied.
    fn take_until_end<'a>(&mut self, bytes: &'a [u8]) -> (bool, &'a [u8]) {
        // Where the part of `bytes` not yet copied or skipped begins.
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', bytes) {
            let piece = bytes.get(start..=nl).unwrap_or_default();
            let in_place = self.line.is_empty();
            if !in_place {
                self.line.extend_from_slice(piece);
                start = nl + 1;
            }
            let line: &[u8] = if in_place { piece } else { &self.line };
            // An empty line (CRLF, or a bare LF as httparse accepts it).
            let empty = line == b"\r\n"
                || line == b"\n"
                || line.ends_with(b"\n\r\n")
                || line.ends_with(b"\n\n");
            let ended = match self.state {
                // Empty lines before a request line are ignored (RFC 9112,
                // 2.2); a head ends with one.
                State::Head if line.len() <= 2 && empty => {
                    self.line.clear();
                    start = nl + 1;
                    false
                }
                State::ChunkSize => true,
                // Heads and trailers end with an empty line.
                _ => empty,
            };
            if ended {
                if in_place {
                    self.finish_line(piece);
                } else {
                    let line = std::mem::take(&mut self.line);
                    self.finish_line(&line);
                    // Keep the allocation for the next head.
                    self.line = line;
                    self.line.clear();
                }
                return (true, bytes.get(nl + 1..).unwrap_or_default());
            }
        }
        self.line
            .extend_from_slice(bytes.get(start..).unwrap_or_default());
        (false, &[])
    }

    fn finish_line(&mut self, line: &[u8]) {
        self.state = match self.state {
            State::Head => self.after_head(line),
            State::ChunkSize => match httparse::parse_chunk_size(line) {
                Ok(httparse::Status::Complete((_, 0))) => State::Trailers,
                Ok(httparse::Status::Complete((_, n))) => State::ChunkData(n.saturating_add(2)),
                _ => State::Off,
            },
            _ => State::Head,
        };
    }

    fn after_head(&mut self, head: &[u8]) -> State {
        // Uninitialised, as hyper's own: a zeroed array is 4 KiB written
        // per request.
        let mut headers = [const { std::mem::MaybeUninit::uninit() }; 128];
        let mut req = httparse::Request::new(&mut []);
        match httparse::ParserConfig::default().parse_request_with_uninit_headers(
            &mut req,
            head,
            &mut headers,
        ) {
            Ok(httparse::Status::Complete(n)) if n == head.len() => {}
            _ => return State::Off,
        }
        self.requests += 1;
        let (mut length, mut chunked, mut coded) = (None, false, false);
        for h in req.headers.iter() {
            if h.name.eq_ignore_ascii_case("content-length") {
                length = std::str::from_utf8(h.value)
                    .ok()
                    .and_then(|v| v.trim().parse::<u64>().ok());
                if length.is_none() {
                    return State::Off;
                }
            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                coded = true;
                chunked = h
                    .value
                    .rsplit(|b| *b == b',')
                    .next()
                    .is_some_and(|last| last.trim_ascii().eq_ignore_ascii_case(b"chunked"));
            }
        }
        if coded && length.is_some() {
            let _ = self.marks.ambiguous.compare_exchange(
                0,
                self.requests,
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
            // hyper closes the connection after this request.
            return State::Off;
        }
        match (coded, chunked, length) {
            (true, true, _) => State::ChunkSize,
            (true, false, _) => State::Off,
            (false, _, Some(0) | None) => State::Head,
            (false, _, Some(n)) => State::Body(n),
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Framed<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = if this.pre.is_empty() {
            Pin::new(&mut this.inner).poll_read(cx, buf)
        } else {
            let n = this.pre.len().min(buf.remaining());
            buf.put_slice(&this.pre.split_to(n));
            Poll::Ready(Ok(()))
        };
        if let Poll::Ready(Ok(())) = polled
            && !matches!(this.state, State::Off)
        {
            this.follow(buf.filled().get(before..).unwrap_or_default());
        }
        polled
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Framed<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marks_after(chunks: &[&[u8]]) -> (u64, bool) {
        let marks = Arc::new(Marks::default());
        let mut f = Framed::new((), bytes::Bytes::new(), 32 * 1024, Arc::clone(&marks));
        for c in chunks {
            f.follow(c);
        }
        (
            marks.ambiguous.load(Ordering::Relaxed),
            matches!(f.state, State::Off),
        )
    }

    #[test]
    fn plain_requests_are_never_marked() {
        let two = b"POST /a HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\nhost: x\r\n\r\n";
        assert_eq!(marks_after(&[two]), (0, false));
        let chunked = b"POST /a HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /b HTTP/1.1\r\n\r\n";
        assert_eq!(marks_after(&[chunked]), (0, false));
    }

    #[test]
    fn leading_empty_lines_are_skipped_in_one_read_or_split() {
        let stream: &[u8] =
            b"\r\n\nPOST /a HTTP/1.1\r\ncontent-length: 1\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n";
        assert_eq!(marks_after(&[stream]).0, 1);
        let (a, b) = stream.split_at(3);
        assert_eq!(marks_after(&[a, b]).0, 1);
    }

    #[test]
    fn the_ambiguous_request_is_numbered_wherever_it_falls() {
        let first =
            b"GET / HTTP/1.1\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n";
        assert_eq!(marks_after(&[first]).0, 1);
        // The third request, after a sized and a chunked body (with a
        // trailer), split across reads at awkward places.
        let stream: &[u8] = b"POST /a HTTP/1.1\r\ncontent-length: 3\r\n\r\nabcPOST /b HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nxyz\r\n0\r\nx-t: 1\r\n\r\n\r\nPOST /c HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
        let (a, b) = stream.split_at(50);
        let (b, c) = b.split_at(37);
        assert_eq!(marks_after(&[a, b, c]).0, 3);
        for i in 1..stream.len() {
            let one_by_one: Vec<&[u8]> = stream.chunks(i).collect();
            assert_eq!(marks_after(&one_by_one).0, 3, "split every {i} bytes");
        }
    }

    #[test]
    fn unframed_bytes_stop_the_reader() {
        assert_eq!(marks_after(&[b"\x16\x03\x01 not http\r\n\r\n"]), (0, true));
        assert_eq!(
            marks_after(&[b"POST / HTTP/1.1\r\ncontent-length: x\r\n\r\n"]),
            (0, true)
        );
        let long = vec![b'a'; 40 * 1024];
        assert_eq!(marks_after(&[&long]), (0, true));
    }
}

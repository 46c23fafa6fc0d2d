//! HTTP/1.1 on a caller connection's own upstream connection (see
//! [`super::affine`]), written on httparse (hyper's own parser) without
//! hyper's client connection.
//!
//! Why not hyper here: a hyper client connection is a task of its own
//! behind a channel, so each call is a message to that task, a wake-up of
//! it, and a wake-up back with the answer; its state machine then serves
//! any message shape. On the one shape the REST adapter sends (a request
//! whose body is known, one at a time on a connection nobody else uses),
//! writing the request and reading the answer in the caller's own task is
//! 9.8k fewer user-space instructions a proxied request (a third of
//! hyper's share; `scripts/instructions`: the bare proxy's `aff-spawn`
//! 38.9k against `lean-client` 29.1k; issue 9).
//!
//! What it writes is what hyper's client writes for the same request
//! (`hyper::proto::h1::role::Client::encode`): the request line with the
//! origin-form target, the headers in the map's order with their names in
//! lower case, then `content-length` when the body is not empty. A request
//! hyper would frame differently (a `Content-Length` or `Transfer-Encoding`
//! of its own, a `CONNECT`, a body over [`MAX_BODY`], which hyper writes
//! while it watches for an early answer) is not sent here ([`encode`] says
//! `None`) but on hyper's pool.
//!
//! What it reads follows hyper's client too (`Client::decoder`, RFC 9112
//! 6.3): 1xx answers other than 101 skipped; no body for `HEAD`, 204 and
//! 304; `Transfer-Encoding` ending in `chunked` read as chunks (extensions
//! and trailers dropped), any other `Transfer-Encoding` read to the end of
//! the connection; `Content-Length` values that disagree or are not
//! numbers are an error; neither header: to the end of the connection.
//! hyper's limits are kept: 100 headers, a head of at most [`MAX_HEAD`]
//! bytes. A connection is reused only after an answer read to its end, on
//! HTTP/1.1 without `Connection: close`, with nothing unasked after it.

use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use bytes::{Buf, Bytes, BytesMut};
use http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};

use crate::error::TransportError;

/// What a connection is made of: TCP, or TLS on it (see [`super::connect`]).
#[cfg(feature = "native-tls")]
pub(crate) type Io = super::connect::Stream;
/// What a connection is made of: TCP (`http://` only in this build).
#[cfg(not(feature = "native-tls"))]
pub(crate) type Io = tokio::net::TcpStream;

/// Most headers in an answer's head (hyper's client's default).
const MAX_HEADERS: usize = 100;
/// Longest answer head: hyper's default read buffer limit.
pub(crate) const MAX_HEAD: usize = 8192 + 4096 * 100;
/// Longest request body sent here; longer ones go on hyper's client.
pub(crate) const MAX_BODY: usize = 64 * 1024;
/// Longest chunk-size line of a chunked answer.
const MAX_CHUNK_LINE: usize = 4096;
/// Most bytes of trailer fields after a chunked answer's last chunk.
const MAX_TRAILERS: usize = 16 * 1024;
/// Room made in the read buffer before a read.
const READ_SIZE: usize = 8 * 1024;

/// An upstream connection and what was read from it and not yet used.
pub(crate) struct Conn {
    io: Io,
    buf: BytesMut,
}

/// Neither the peer nor any bytes read.
impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn").finish_non_exhaustive()
    }
}

/// How an answer's body ends, and how far it has been read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No body (`HEAD`, 1xx, 204, 304), or a body read to its end.
    Ended,
    /// This many bytes left.
    Length(u64),
    /// Chunks, at this point of them.
    Chunked(Chunk),
    /// Until the connection closes.
    Close,
}

/// Where a chunked body's reader is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Chunk {
    /// At a chunk-size line.
    Size,
    /// This many bytes of a chunk's data left.
    Data(u64),
    /// At the CRLF after a chunk's data.
    DataEnd,
    /// In the trailer section, this many bytes of it read.
    Trailers(usize),
}

/// An answer's head.
#[derive(Debug)]
pub(crate) struct Head {
    pub(crate) status: StatusCode,
    /// Empty when the head was read raw ([`Conn::read_head`]).
    pub(crate) headers: HeaderMap,
    /// The fields as they came, when the head was read raw.
    pub(crate) fields: Option<Fields>,
    pub(crate) framing: Framing,
    /// HTTP/1.1 without `Connection: close` (or HTTP/1.0 with
    /// `keep-alive`), and not a 101: the connection may carry another call
    /// once the body is read to its end.
    pub(crate) keep_alive: bool,
}

/// An answer's header fields as they came: the head's bytes, and where
/// each field's name and value lie in them. What the REST adapter's lean
/// path writes back to its caller without building a header map (issue 9);
/// [`Fields::to_map`] builds the map.
#[derive(Clone)]
pub(crate) struct Fields {
    head: Bytes,
    /// Name start and end, value start and end, for each field in order.
    at: Vec<[u32; 4]>,
}

/// Neither names nor values (a `Set-Cookie` is a secret).
impl std::fmt::Debug for Fields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fields")
            .field("len", &self.at.len())
            .finish_non_exhaustive()
    }
}

impl Fields {
    /// Where each of `headers` (parsed from `head`) has its name and value
    /// in `head`, so that values become slices of one frozen buffer (no
    /// copy each). A head is at most `MAX_HEAD` bytes: offsets fit in `u32`.
    fn offsets(
        head: &[u8],
        headers: &[httparse::Header<'_>],
    ) -> Result<Vec<[u32; 4]>, TransportError> {
        let base = head.as_ptr() as usize;
        let offset = |p: *const u8| (p as usize).wrapping_sub(base) as u32;
        let mut at = Vec::with_capacity(headers.len());
        for h in headers {
            // `http` takes names up to 64 KiB; httparse, any length.
            if h.name.len() > usize::from(u16::MAX) {
                return Err(invalid("invalid HTTP header name parsed"));
            }
            let (name, value) = (offset(h.name.as_ptr()), offset(h.value.as_ptr()));
            at.push([
                name,
                name.saturating_add(h.name.len() as u32),
                value,
                value.saturating_add(h.value.len() as u32),
            ]);
        }
        Ok(at)
    }

    /// How many fields.
    pub(crate) fn len(&self) -> usize {
        self.at.len()
    }

    /// The name of field `i` as it came (any case).
    pub(crate) fn name(&self, i: usize) -> &[u8] {
        self.at
            .get(i)
            .and_then(|a| self.head.get(a[0] as usize..a[1] as usize))
            .unwrap_or_default()
    }

    /// The value of field `i`.
    pub(crate) fn value(&self, i: usize) -> &[u8] {
        self.at
            .get(i)
            .and_then(|a| self.head.get(a[2] as usize..a[3] as usize))
            .unwrap_or_default()
    }

    /// The values of the fields named `name` (lower case), in order.
    fn values<'a>(&'a self, name: &'a str) -> impl DoubleEndedIterator<Item = &'a [u8]> + 'a {
        (0..self.len())
            .filter(move |&i| {
                let n = self.name(i);
                n.len() == name.len() && n.eq_ignore_ascii_case(name.as_bytes())
            })
            .map(|i| self.value(i))
    }

    /// The fields as a header map, as [`Conn::read_head`] builds one (each
    /// value a slice of the head, not a copy). httparse has checked the
    /// bytes `http` checks, so no field fails here but an over-long name.
    pub(crate) fn to_map(&self) -> Result<HeaderMap, TransportError> {
        let mut headers = HeaderMap::with_capacity(self.len());
        for a in &self.at {
            let name = self
                .head
                .get(a[0] as usize..a[1] as usize)
                .and_then(|n| HeaderName::from_bytes(n).ok())
                .ok_or_else(|| invalid("invalid HTTP header name parsed"))?;
            let value = self
                .head
                .get(a[2] as usize..a[3] as usize)
                .map(|_| self.head.slice(a[2] as usize..a[3] as usize))
                .and_then(|v| HeaderValue::from_maybe_shared(v).ok())
                .ok_or_else(|| invalid("invalid HTTP header value parsed"))?;
            headers.append(name, value);
        }
        Ok(headers)
    }
}

#[cfg(test)]
impl Fields {
    /// The fields of a whole answer head (for tests).
    #[allow(clippy::unwrap_used)]
    pub(crate) fn of(head: &'static [u8]) -> Self {
        let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut resp = httparse::Response::new(&mut slots);
        assert!(resp.parse(head).unwrap().is_complete());
        let at = Self::offsets(head, resp.headers).unwrap();
        Self {
            head: Bytes::from_static(head),
            at,
        }
    }
}

/// The bytes of a request as hyper's client writes them (module docs), or
/// `None` when hyper's client must send it. `target` is valid as a URI's
/// path and query; `headers` already hold `Host`.
pub(crate) fn encode(
    method: &Method,
    target: &[u8],
    headers: &HeaderMap,
    body: &[u8],
) -> Option<Vec<u8>> {
    if body.len() > MAX_BODY || method == Method::CONNECT {
        return None;
    }
    let mut out = Vec::with_capacity(96 + target.len() + headers.len() * 48 + body.len());
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    // As `Uri`'s `Display` writes an origin-form target (hyper writes that):
    // the path, then `?` and the query when there is one, which is the
    // target's text.
    out.extend_from_slice(target);
    out.extend_from_slice(b" HTTP/1.1\r\n");
    for (name, value) in headers {
        // Framing of the call's own: hyper's client decides what it means.
        // (Checked here rather than looked up: no hashing; issue 9.)
        if name == CONTENT_LENGTH || name == TRANSFER_ENCODING {
            return None;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !body.is_empty() {
        out.extend_from_slice(b"content-length: ");
        out.extend_from_slice(body.len().to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    Some(out)
}

/// An error of this module's reading, worded as hyper's are.
fn invalid(what: impl std::fmt::Display) -> TransportError {
    TransportError::wire(what)
}

impl Conn {
    /// A new connection.
    pub(crate) fn new(io: Io) -> Self {
        Self {
            io,
            buf: BytesMut::new(),
        }
    }

    /// A connection over plain TCP (for tests).
    #[cfg(test)]
    pub(crate) fn tcp(stream: tokio::net::TcpStream) -> Self {
        #[cfg(feature = "native-tls")]
        let stream = super::connect::Stream::Plain(stream);
        Self::new(stream)
    }

    /// Whether an idle connection can no longer carry a call: the peer
    /// closed it (its idle timeout, say), it failed, or it sent bytes no
    /// request asked for. One read attempt that does not wait.
    pub(crate) fn is_closed(&mut self) -> bool {
        if !self.buf.is_empty() {
            return true;
        }
        let mut cx = Context::from_waker(Waker::noop());
        let mut probe = [0u8; 1];
        let mut probe = ReadBuf::new(&mut probe);
        !matches!(
            Pin::new(&mut self.io).poll_read(&mut cx, &mut probe),
            Poll::Pending
        )
    }

    /// Writes a request's bytes (from [`encode`]).
    pub(crate) async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.io.write_all(bytes).await?;
        self.io.flush().await
    }

    /// Reads more of the connection into the buffer; 0 at its end.
    async fn fill(&mut self) -> io::Result<usize> {
        if self.buf.capacity() - self.buf.len() < READ_SIZE / 2 {
            self.buf.reserve(READ_SIZE);
        }
        self.io.read_buf(&mut self.buf).await
    }

    /// Reads the head of the answer to a `method` request, 1xx answers
    /// skipped; `raw`: its fields kept as they came, no header map built.
    pub(crate) async fn read_head(
        &mut self,
        method: &Method,
        raw: bool,
    ) -> Result<Head, TransportError> {
        // A head that arrives in many small reads is parsed when its empty
        // line may have come (and at its first bytes, so that garbage fails
        // fast), not after every read: `seen` bytes were looked at.
        let (mut seen, mut tried) = (0usize, false);
        loop {
            if !self.buf.is_empty() {
                // Looked for only after the first try: most heads come whole
                // in the first read (two searches saved a request; issue 9).
                let ended = || {
                    self.buf.get(seen.saturating_sub(2)..).is_some_and(|new| {
                        memchr::memmem::find(new, b"\n\r\n").is_some()
                            || memchr::memmem::find(new, b"\n\n").is_some()
                    })
                };
                if !tried || ended() {
                    tried = true;
                    match self.parse_head(method, raw)? {
                        Parsed::Head(head) => return Ok(head),
                        Parsed::Informational => {
                            (seen, tried) = (0, false);
                            continue;
                        }
                        Parsed::Partial => {}
                    }
                }
            }
            seen = self.buf.len();
            if self.buf.len() >= MAX_HEAD {
                return Err(invalid("message head is too large"));
            }
            let read = self.fill().await.map_err(TransportError::wire_io)?;
            if read == 0 {
                return Err(invalid("connection closed before message completed"));
            }
        }
    }

    /// Parses the head at the start of the buffer, and takes it out.
    fn parse_head(&mut self, method: &Method, raw: bool) -> Result<Parsed, TransportError> {
        let mut slots = [const { MaybeUninit::uninit() }; MAX_HEADERS];
        let mut resp = httparse::Response::new(&mut []);
        let parsed = httparse::ParserConfig::default()
            .parse_response_with_uninit_headers(&mut resp, &self.buf, &mut slots);
        let len = match parsed {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => return Ok(Parsed::Partial),
            Err(httparse::Error::TooManyHeaders) => {
                return Err(invalid("message head is too large"));
            }
            Err(e) => return Err(invalid(format_args!("invalid HTTP answer head: {e}"))),
        };
        let status = StatusCode::from_u16(resp.code.unwrap_or_default())
            .map_err(|_| invalid("invalid HTTP status code parsed"))?;
        let http11 = resp.version == Some(1);
        let at = Fields::offsets(&self.buf, resp.headers)?;
        let head = self.buf.split_to(len).freeze();
        if status.is_informational() && status != StatusCode::SWITCHING_PROTOCOLS {
            return Ok(Parsed::Informational);
        }
        let fields = Fields { head, at };
        if fields.at.iter().any(|a| a[3] as usize > fields.head.len()) {
            return Err(invalid("invalid HTTP header parsed"));
        }
        let keep_alive = status != StatusCode::SWITCHING_PROTOCOLS
            && !has_token(&fields, "connection", "close")
            && (http11 || has_token(&fields, "connection", "keep-alive"));
        let framing = framing(status, method, &fields, http11)?;
        let (headers, fields) = if raw {
            (HeaderMap::new(), Some(fields))
        } else {
            (fields.to_map()?, None)
        };
        Ok(Parsed::Head(Head {
            status,
            headers,
            fields,
            framing,
            // A body that ends with the connection leaves nothing to reuse.
            keep_alive: keep_alive && framing != Framing::Close,
        }))
    }

    /// [`Self::next_chunk`] when it needs no read: the end of a body, or a
    /// sized body's next piece already in the buffer (`None`: it needs one).
    /// A small answer usually comes whole with its head, and its body is
    /// then taken without setting up a timeout for a read that never comes.
    pub(crate) fn ready_chunk(&mut self, framing: &mut Framing) -> Option<Option<Bytes>> {
        match *framing {
            Framing::Ended => Some(None),
            Framing::Length(0) => {
                *framing = Framing::Ended;
                Some(None)
            }
            Framing::Length(left) if !self.buf.is_empty() => {
                let n = usize::try_from(left)
                    .unwrap_or(usize::MAX)
                    .min(self.buf.len());
                let data = self.buf.split_to(n).freeze();
                *framing = match left - n as u64 {
                    0 => Framing::Ended,
                    rest => Framing::Length(rest),
                };
                Some(Some(data))
            }
            _ => None,
        }
    }

    /// The next piece of a body framed by `framing` (which it advances),
    /// `None` at its end.
    pub(crate) async fn next_chunk(
        &mut self,
        framing: &mut Framing,
    ) -> Result<Option<Bytes>, TransportError> {
        loop {
            match *framing {
                Framing::Ended => return Ok(None),
                Framing::Length(0) => {
                    *framing = Framing::Ended;
                    return Ok(None);
                }
                Framing::Length(left) => {
                    let data = self.take_data(left).await?;
                    // Ended with its last byte, as hyper's body is: one
                    // dropped there frees its connection (`Answer`).
                    *framing = match left - data.len() as u64 {
                        0 => Framing::Ended,
                        rest => Framing::Length(rest),
                    };
                    return Ok(Some(data));
                }
                Framing::Close => {
                    if self.buf.is_empty()
                        && self.fill().await.map_err(TransportError::wire_io)? == 0
                    {
                        *framing = Framing::Ended;
                        return Ok(None);
                    }
                    return Ok(Some(self.buf.split().freeze()));
                }
                Framing::Chunked(Chunk::Size) => match httparse::parse_chunk_size(&self.buf) {
                    Ok(httparse::Status::Complete((used, size))) => {
                        self.buf.advance(used);
                        *framing = Framing::Chunked(if size == 0 {
                            Chunk::Trailers(0)
                        } else {
                            Chunk::Data(size)
                        });
                    }
                    Ok(httparse::Status::Partial) if self.buf.len() < MAX_CHUNK_LINE => {
                        self.fill_some().await?;
                    }
                    _ => return Err(invalid("invalid chunk size line")),
                },
                Framing::Chunked(Chunk::Data(left)) => {
                    let data = self.take_data(left).await?;
                    let left = left - data.len() as u64;
                    *framing = Framing::Chunked(if left == 0 {
                        Chunk::DataEnd
                    } else {
                        Chunk::Data(left)
                    });
                    return Ok(Some(data));
                }
                Framing::Chunked(Chunk::DataEnd) => {
                    if self.buf.len() < 2 {
                        self.fill_some().await?;
                        continue;
                    }
                    if !self.buf.starts_with(b"\r\n") {
                        return Err(invalid("invalid chunk body CRLF"));
                    }
                    self.buf.advance(2);
                    *framing = Framing::Chunked(Chunk::Size);
                }
                Framing::Chunked(Chunk::Trailers(read)) => {
                    // Trailer fields carry no data: skipped, as reqwest
                    // and `Answer::chunk` do, up to the empty line.
                    match memchr::memmem::find(&self.buf, b"\r\n") {
                        Some(0) => {
                            self.buf.advance(2);
                            *framing = Framing::Ended;
                            return Ok(None);
                        }
                        Some(line) if read + line + 2 <= MAX_TRAILERS => {
                            self.buf.advance(line + 2);
                            *framing = Framing::Chunked(Chunk::Trailers(read + line + 2));
                        }
                        None if read + self.buf.len() < MAX_TRAILERS => self.fill_some().await?,
                        _ => return Err(invalid("chunk trailers are too large")),
                    }
                }
            }
        }
    }

    /// Whether nothing unasked was read after the answer.
    pub(crate) fn is_drained(&self) -> bool {
        self.buf.is_empty()
    }

    /// At most `left` bytes of body, reading when none are buffered.
    async fn take_data(&mut self, left: u64) -> Result<Bytes, TransportError> {
        if self.buf.is_empty() {
            self.fill_some().await?;
        }
        let n = usize::try_from(left)
            .unwrap_or(usize::MAX)
            .min(self.buf.len());
        Ok(self.buf.split_to(n).freeze())
    }

    /// Reads more, where the body is not complete: its end is an error.
    async fn fill_some(&mut self) -> Result<(), TransportError> {
        match self.fill().await {
            Ok(0) => Err(invalid("connection closed before message completed")),
            Ok(_) => Ok(()),
            Err(e) => Err(TransportError::wire_io(e)),
        }
    }
}

/// What [`Conn::parse_head`] found.
enum Parsed {
    Head(Head),
    /// A 1xx answer, taken out; the real one follows.
    Informational,
    /// Not a complete head yet.
    Partial,
}

/// How the body of an answer with `status` and `headers` to a `method`
/// request is framed (hyper's `Client::decoder`).
fn framing(
    status: StatusCode,
    method: &Method,
    fields: &Fields,
    http11: bool,
) -> Result<Framing, TransportError> {
    if matches!(status.as_u16(), 101 | 204 | 304) || method == Method::HEAD {
        return Ok(Framing::Ended);
    }
    if let Some(last) = fields.values("transfer-encoding").next_back() {
        if !http11 {
            return Err(invalid("unexpected transfer-encoding parsed"));
        }
        let chunked = visible(last)
            .and_then(|v| v.rsplit(',').next())
            .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
        return Ok(if chunked {
            Framing::Chunked(Chunk::Size)
        } else {
            Framing::Close
        });
    }
    // Every value, and every item of a comma-separated one, the same number
    // (none: to the end of the connection).
    let mut length = None;
    for value in fields.values("content-length") {
        let text = visible(value).ok_or_else(|| invalid("invalid content-length parsed"))?;
        for item in text.split(',') {
            let item = item.trim_matches([' ', '\t']);
            let n = (!item.is_empty() && item.bytes().all(|b| b.is_ascii_digit()))
                .then(|| item.parse::<u64>().ok())
                .flatten()
                .ok_or_else(|| invalid("invalid content-length parsed"))?;
            if length.is_some_and(|l| l != n) {
                return Err(invalid("invalid content-length parsed"));
            }
            length = Some(n);
        }
    }
    Ok(length.map_or(Framing::Close, |n| {
        if n == 0 {
            Framing::Ended
        } else {
            Framing::Length(n)
        }
    }))
}

/// Whether a header of `name` lists `token` (case-insensitive).
fn has_token(fields: &Fields, name: &str, token: &str) -> bool {
    fields.values(name).any(|v| {
        visible(v).is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    })
}

/// A value as text when it is visible ASCII (as `HeaderValue::to_str`).
fn visible(value: &[u8]) -> Option<&str> {
    value
        .iter()
        .all(|&b| b == b'\t' || (b' '..=b'~').contains(&b))
        .then(|| std::str::from_utf8(value).ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]

    use super::*;
    use std::time::Duration;
    use tokio::io::AsyncWriteExt;
    use tokio::net::{TcpListener, TcpStream};

    /// A connection and its peer over loopback.
    async fn pair() -> (Conn, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let near = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (far, _) = listener.accept().await.unwrap();
        (Conn::tcp(near), far)
    }

    /// Everything `far` receives until it is quiet for 100 ms.
    async fn received(far: &mut tokio::io::DuplexStream) -> Vec<u8> {
        use tokio::io::AsyncReadExt as _;
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(Ok(n)) =
            tokio::time::timeout(Duration::from_millis(100), far.read(&mut buf)).await
        {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        out
    }

    #[tokio::test]
    async fn requests_are_written_as_hyper_writes_them() {
        // Method, target, headers besides `Host`, body.
        type Case = (
            &'static str,
            &'static str,
            &'static [(&'static str, &'static str)],
            &'static str,
        );
        let cases: [Case; 5] = [
            ("GET", "/items?id=1&x=%20", &[("accept", "*/*")], ""),
            (
                "POST",
                "/api/experience/verification/password",
                &[
                    ("cookie", "_interaction=abc"),
                    ("cookie", "_interaction.sig=def"),
                    ("authorization", "Bearer key"),
                    ("content-type", "application/json"),
                    ("x-custom", "v\u{e9}"),
                ],
                r#"{"password":"p"}"#,
            ),
            (
                "POST",
                "/empty",
                &[("content-type", "application/json")],
                "",
            ),
            ("DELETE", "/", &[], ""),
            ("PUT", "/a/b%2Fc?", &[("accept", "*/*")], "text"),
        ];
        for (method, target, fields, body) in cases {
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let target = http::uri::PathAndQuery::from_static(target);
            let mut headers = HeaderMap::new();
            headers.insert(
                http::header::HOST,
                HeaderValue::from_static("upstream.test:8080"),
            );
            for (name, value) in fields {
                headers.append(
                    HeaderName::from_static(name),
                    HeaderValue::from_bytes(value.as_bytes()).unwrap(),
                );
            }
            // hyper's client connection, on an in-memory pipe.
            let (near, mut far) = tokio::io::duplex(64 * 1024);
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(near))
                    .await
                    .unwrap();
            tokio::spawn(conn);
            let mut req = http::Request::new(http_body_util::Full::new(Bytes::from(body)));
            *req.method_mut() = method.clone();
            *req.uri_mut() = http::Uri::from(target.clone());
            *req.headers_mut() = headers.clone();
            tokio::spawn(sender.send_request(req));
            let hypers = received(&mut far).await;
            let ours = encode(
                &method,
                target.as_str().as_bytes(),
                &headers,
                body.as_bytes(),
            )
            .unwrap();
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&hypers),
                "{method} {target}"
            );
        }
    }

    #[test]
    fn requests_only_hyper_frames_are_left_to_it() {
        let target = b"/";
        let host = |extra: Option<(HeaderName, &'static str)>| {
            let mut h = HeaderMap::new();
            h.insert(http::header::HOST, HeaderValue::from_static("u"));
            if let Some((name, value)) = extra {
                h.insert(name, HeaderValue::from_static(value));
            }
            h
        };
        assert!(encode(&Method::POST, target, &host(None), &[b'x'; MAX_BODY]).is_some());
        assert!(encode(&Method::POST, target, &host(None), &[b'x'; MAX_BODY + 1]).is_none());
        assert!(
            encode(
                &Method::POST,
                target,
                &host(Some((CONTENT_LENGTH, "1"))),
                b"x"
            )
            .is_none()
        );
        assert!(
            encode(
                &Method::POST,
                target,
                &host(Some((TRANSFER_ENCODING, "chunked"))),
                b"x"
            )
            .is_none()
        );
        assert!(encode(&Method::CONNECT, target, &host(None), b"").is_none());
    }

    /// What a connection reads of `raw` as the answer to a `method`
    /// request: its head, its body (or the error that ended either), and
    /// whether the connection could carry another call. The peer closes
    /// its side after `raw` when `close`.
    async fn read(
        method: Method,
        raw: &[&[u8]],
        close: bool,
    ) -> Result<(Head, Vec<u8>, bool), String> {
        let (mut conn, mut far) = pair().await;
        let raw: Vec<Vec<u8>> = raw.iter().map(|r| r.to_vec()).collect();
        let peer = tokio::spawn(async move {
            for piece in raw {
                far.write_all(&piece).await.unwrap();
                far.flush().await.unwrap();
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            if close {
                far.shutdown().await.unwrap();
            }
            far
        });
        let outcome = async {
            let mut head = conn
                .read_head(&method, false)
                .await
                .map_err(|e| e.to_string())?;
            let mut body = Vec::new();
            let mut framing = head.framing;
            // As `Answer::chunk` reads: without a read when it needs none.
            loop {
                let piece = match conn.ready_chunk(&mut framing) {
                    Some(ready) => ready,
                    None => conn
                        .next_chunk(&mut framing)
                        .await
                        .map_err(|e| e.to_string())?,
                };
                let Some(piece) = piece else { break };
                body.extend_from_slice(&piece);
            }
            head.framing = framing;
            let reusable = head.keep_alive && conn.is_drained() && !conn.is_closed();
            Ok((head, body, reusable))
        };
        let outcome = tokio::time::timeout(Duration::from_secs(2), outcome)
            .await
            .unwrap_or_else(|_| Err("still reading after 2 s".into()));
        peer.abort();
        outcome
    }

    #[tokio::test]
    async fn answers_are_framed_as_hyper_frames_them() {
        // A length, the body in pieces; kept alive.
        let (head, body, reusable) = read(
            Method::POST,
            &[b"HTTP/1.1 201 Created\r\ncontent-length: 11\r\nset-cookie: a=1\r\nset-cookie: b=2\r\n\r\nhello", b" world"],
            false,
        )
        .await
        .unwrap();
        assert_eq!(head.status, StatusCode::CREATED);
        assert_eq!(head.headers.get_all("set-cookie").iter().count(), 2);
        assert_eq!(body, b"hello world");
        assert!(reusable);

        // Chunks with an extension and trailers; a 100 Continue before.
        let (head, body, reusable) = read(
            Method::GET,
            &[
                b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5;ext=1\r\nhello\r\n",
                b"6\r\n world\r\n0\r\nx-trailer: t\r\n\r\n",
            ],
            false,
        )
        .await
        .unwrap();
        assert_eq!(head.status, StatusCode::OK);
        assert_eq!(body, b"hello world");
        assert!(reusable);

        // No length: to the connection's end, which is then not reused.
        let (_, body, reusable) = read(
            Method::GET,
            &[b"HTTP/1.1 200 OK\r\n\r\nall ", b"of it"],
            true,
        )
        .await
        .unwrap();
        assert_eq!(body, b"all of it");
        assert!(!reusable);
        // Nor is one whose transfer coding is not chunked.
        let (head, body, _) = read(
            Method::GET,
            &[b"HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\nraw"],
            true,
        )
        .await
        .unwrap();
        assert_eq!((head.keep_alive, body.as_slice()), (false, &b"raw"[..]));

        // No body for HEAD, 204 and 304, whatever the length says.
        for (method, raw) in [
            (
                Method::HEAD,
                &b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n"[..],
            ),
            (Method::GET, b"HTTP/1.1 204 No Content\r\n\r\n"),
            (
                Method::GET,
                b"HTTP/1.1 304 Not Modified\r\ncontent-length: 5\r\n\r\n",
            ),
        ] {
            let (_, body, reusable) = read(method, &[raw], false).await.unwrap();
            assert!(body.is_empty() && reusable);
        }

        // Closing: asked to, or HTTP/1.0 without keep-alive.
        for raw in [
            &b"HTTP/1.1 200 OK\r\nconnection: keep-alive, Close\r\ncontent-length: 0\r\n\r\n"[..],
            b"HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n",
        ] {
            let (head, _, reusable) = read(Method::GET, &[raw], false).await.unwrap();
            assert!(!head.keep_alive && !reusable);
        }
        let (head, _, _) = read(
            Method::GET,
            &[b"HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 0\r\n\r\n"],
            false,
        )
        .await
        .unwrap();
        assert!(head.keep_alive);
        // Equal lengths are one length.
        let (_, body, _) = read(
            Method::GET,
            &[b"HTTP/1.1 200 OK\r\ncontent-length: 2, 2\r\ncontent-length: 2\r\n\r\nok"],
            false,
        )
        .await
        .unwrap();
        assert_eq!(body, b"ok");
        // Bytes after the answer that no request asked for: not reused.
        let (_, _, reusable) = read(
            Method::GET,
            &[b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n"],
            false,
        )
        .await
        .unwrap();
        assert!(!reusable);
    }

    #[tokio::test]
    async fn malformed_or_cut_answers_are_errors() {
        let many = format!(
            "HTTP/1.1 200 OK\r\n{}\r\n",
            "x-h: v\r\n".repeat(MAX_HEADERS + 1)
        );
        let huge = format!("HTTP/1.1 200 OK\r\nx-h: {}", "v".repeat(MAX_HEAD));
        for (raw, close, error) in [
            (&b""[..], true, "connection closed before message completed"),
            (
                b"HTTP/1.1 200 OK\r\ncontent-le",
                true,
                "connection closed before message completed",
            ),
            (
                b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\ncut",
                true,
                "connection closed before message completed",
            ),
            (
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhel",
                true,
                "connection closed before message completed",
            ),
            (
                b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nok",
                false,
                "invalid content-length parsed",
            ),
            (
                b"HTTP/1.1 200 OK\r\ncontent-length: +2\r\n\r\nok",
                false,
                "invalid content-length parsed",
            ),
            (
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
                false,
                "invalid chunk size line",
            ),
            (
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nokXX",
                false,
                "invalid chunk body CRLF",
            ),
            (
                b"HTTP/1.0 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
                false,
                "unexpected transfer-encoding parsed",
            ),
            (
                b"HTTP/1.1 2000 OK\r\n\r\n",
                false,
                "invalid HTTP answer head",
            ),
            (b"SMTP ready\r\n\r\n", false, "invalid HTTP answer head"),
            (many.as_bytes(), false, "message head is too large"),
            (huge.as_bytes(), false, "message head is too large"),
        ] {
            let err = read(Method::GET, &[raw], close)
                .await
                .err()
                .unwrap_or_else(|| {
                    panic!("{:?} was read as an answer", String::from_utf8_lossy(raw))
                });
            assert!(
                err.starts_with(error),
                "{:.80?}: {err}",
                String::from_utf8_lossy(raw)
            );
        }
    }

    #[tokio::test]
    async fn a_sized_body_in_the_buffer_is_taken_without_a_read() {
        let (mut conn, mut far) = pair().await;
        far.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello")
            .await
            .unwrap();
        let head = conn.read_head(&Method::GET, false).await.unwrap();
        let mut framing = head.framing;
        // One write of 43 bytes on loopback arrives whole.
        assert_eq!(conn.buf.len(), 5, "the body came apart from its head");
        assert_eq!(
            conn.ready_chunk(&mut framing),
            Some(Some(Bytes::from_static(b"hello")))
        );
        assert!(matches!(framing, Framing::Ended));
        assert_eq!(conn.ready_chunk(&mut framing), Some(None));
        assert!(conn.is_drained());
        // A chunked body is read by `next_chunk`, whatever is buffered.
        let mut chunked = Framing::Chunked(Chunk::Size);
        conn.buf.extend_from_slice(b"5\r\nhello\r\n0\r\n\r\n");
        assert!(conn.ready_chunk(&mut chunked).is_none());
        // Nothing buffered, a length left: a read is needed.
        conn.buf.clear();
        let mut sized = Framing::Length(3);
        assert!(conn.ready_chunk(&mut sized).is_none());
        assert!(matches!(sized, Framing::Length(3)));
    }

    #[tokio::test]
    async fn an_idle_connection_is_closed_when_its_peer_closed_it_or_spoke_unasked() {
        let (mut conn, far) = pair().await;
        assert!(!conn.is_closed(), "open and quiet");
        drop(far);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(conn.is_closed(), "the peer closed it");

        let (mut conn, mut far) = pair().await;
        far.write_all(b"HTTP/1.1 408 Request Timeout\r\n\r\n")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(conn.is_closed(), "bytes no request asked for");
    }

    /// What hyper's client connection makes of `raw` as the answer to a
    /// `method` request, and what this module makes of it: the status, the
    /// headers and the body, or that it failed.
    async fn both(method: &Method, raw: &[u8]) -> [Result<(u16, HeaderMap, Vec<u8>), ()>; 2] {
        use http_body_util::BodyExt as _;
        async fn peer(raw: Vec<u8>) -> TcpStream {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let near = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (mut far, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                far.write_all(&raw).await.unwrap();
                far.shutdown().await.unwrap();
                tokio::time::sleep(Duration::from_secs(3)).await;
            });
            near
        }
        let limit = Duration::from_secs(2);
        let io = hyper_util::rt::TokioIo::new(peer(raw.to_vec()).await);
        let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
        tokio::spawn(conn);
        let mut req = http::Request::new(http_body_util::Empty::<Bytes>::new());
        *req.method_mut() = method.clone();
        let hypers = tokio::time::timeout(limit, async {
            let resp = sender.send_request(req).await.map_err(|_| ())?;
            let (parts, body) = resp.into_parts();
            let body = body.collect().await.map_err(|_| ())?.to_bytes();
            Ok((parts.status.as_u16(), parts.headers, body.to_vec()))
        })
        .await
        .unwrap_or(Err(()));
        let mut conn = Conn::tcp(peer(raw.to_vec()).await);
        let ours = tokio::time::timeout(limit, async {
            // Read raw, as the lean path reads: no map is built, and the
            // fields kept make the one hyper's client gives.
            let head = conn.read_head(method, true).await.map_err(|_| ())?;
            assert!(head.headers.is_empty(), "a raw head built a map");
            let headers = head.fields.as_ref().ok_or(())?.to_map().map_err(|_| ())?;
            let (mut framing, mut body) = (head.framing, Vec::new());
            while let Some(piece) = conn.next_chunk(&mut framing).await.map_err(|_| ())? {
                body.extend_from_slice(&piece);
            }
            Ok((head.status.as_u16(), headers, body))
        })
        .await
        .unwrap_or(Err(()));
        [hypers, ours]
    }

    #[tokio::test]
    async fn answers_read_as_hyper_reads_them() {
        let answers: &[&[u8]] = &[
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\nx-a: 2\r\n\r\nhello",
            b"HTTP/1.1 200 OK\nContent-Length: 5\n\nhello",
            b"HTTP/1.1 200 OK\r\ncontent-length: 005\r\n\r\nhello",
            b"HTTP/1.1 200 OK\r\ncontent-length: 5,5\r\n\r\nhello",
            b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello!",
            b"HTTP/1.1 200 OK\r\ncontent-length: -5\r\n\r\nhello",
            b"HTTP/1.1 200 OK\r\ncontent-length: 99999999999999999999\r\n\r\nhello",
            b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhello",
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhello",
            b"HTTP/1.1 200 OK\r\n\r\nto the end",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 3\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2;a=b\r\nok\r\nA\r\n0123456789\r\n0\r\nt: 1\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nx\r\nok\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\nraw bytes",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked, gzip\r\n\r\nraw bytes",
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\nok",
            b"HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\n",
            b"HTTP/1.1 304 Not Modified\r\n\r\n",
            b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok",
            b"HTTP/1.0 200 OK\r\n\r\nto the end",
            b"HTTP/1.1 200 OK\r\nfolded: a\r\n b\r\ncontent-length: 2\r\n\r\nok",
            b"HTTP/1.1 200 OK\r\nbad name: x\r\ncontent-length: 2\r\n\r\nok",
            b"HTTP/1.1 200 OK\r\nx: \x01\r\ncontent-length: 2\r\n\r\nok",
            b"HTTP/1.1 200 OK\r\nx: caf\xc3\xa9\r\ncontent-length: 2\r\n\r\nok",
            b"HTTP/1.1 200\r\ncontent-length: 2\r\n\r\nok",
            b"HTTP/1.1 599 Whatever\r\ncontent-length: 2\r\n\r\nok",
            b"HTTP/2 200 OK\r\ncontent-length: 2\r\n\r\nok",
            b"HTTP/1.1 20 OK\r\ncontent-length: 2\r\n\r\nok",
            b"HTTP/1.1 200 OK\r\ncontent-le",
            b"",
        ];
        for raw in answers {
            let [hypers, ours] = both(&Method::GET, raw).await;
            assert_eq!(ours, hypers, "{:?}", String::from_utf8_lossy(raw));
        }
        let raw = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n";
        let [hypers, ours] = both(&Method::HEAD, raw).await;
        assert_eq!(ours, hypers, "HEAD");
    }
}

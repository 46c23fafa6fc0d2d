//! How the direct path opens its connections with the `native-tls` feature:
//! TCP, then TLS for `https://`, as reqwest's native-tls connector does
//! (the same TCP settings, the same `tokio_native_tls` handshake with the
//! URI's host), with one difference in how a TLS connection is read.
//!
//! tokio-native-tls reads into `ReadBuf::initialize_unfilled()`, which zeroes
//! the part of the buffer not yet initialised, and hyper hands over its read
//! buffer (8 KiB or more) uninitialised on every read: each read zeroed
//! 8 KiB, 7.5 times a request behind the REST adapter (callgrind: 61.7k of a
//! request's 152k instructions, counting `rep stosb` byte by byte). A TLS
//! connection here reads into a buffer of its own, zeroed once, and copies
//! what it read (an answer's bytes, once) into hyper's, or into
//! [`super::wire`]'s, whose reads hand over uninitialised room too.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// What the direct path's errors carry.
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Bytes a TLS connection decrypts into before hyper gets them: one TLS
/// record's most (`SSL_read` returns at most one record).
const TLS_READ: usize = 16 * 1024;

/// Opens the direct path's connections (a `tower::Service<Uri>`, as
/// hyper-util's client takes).
#[derive(Clone)]
pub(crate) struct Connector {
    tcp: HttpConnector,
    tls: tokio_native_tls::TlsConnector,
}

impl Connector {
    /// Over `tcp` (which must accept `https://` URIs: `enforce_http(false)`),
    /// with `tls` for `https://` ones.
    pub(crate) fn new(tcp: HttpConnector, tls: native_tls::TlsConnector) -> Self {
        Self {
            tcp,
            tls: tls.into(),
        }
    }
}

/// What it connects: for hyper-util's pool, wrapped in `TokioIo` (which
/// gives it hyper's I/O traits); [`super::wire`] takes the `Stream` out.
impl tower::Service<Uri> for Connector {
    type Response = TokioIo<Stream>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<TokioIo<Stream>, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.tcp.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let https = dst.scheme() == Some(&http::uri::Scheme::HTTPS);
        // hyper-tls's (hence reqwest's) server name: the host without an
        // IPv6 literal's brackets.
        let host = dst.host().unwrap_or("").trim_matches(['[', ']']).to_owned();
        let connecting = self.tcp.call(dst);
        let tls = self.tls.clone();
        Box::pin(async move {
            let tcp = connecting.await?.into_inner();
            if !https {
                return Ok(TokioIo::new(Stream::Plain(tcp)));
            }
            let stream = tls.connect(&host, tcp).await?;
            Ok(TokioIo::new(Stream::Tls(Box::new(TlsIo {
                stream,
                buf: vec![0; TLS_READ].into_boxed_slice(),
            }))))
        })
    }
}

/// A connection of the direct path.
pub(crate) enum Stream {
    /// `http://`: read and written as hyper-util's own connector's are.
    Plain(TcpStream),
    /// `https://`.
    Tls(Box<TlsIo>),
}

/// A TLS connection and the buffer it decrypts into.
pub(crate) struct TlsIo {
    stream: tokio_native_tls::TlsStream<TcpStream>,
    /// Initialised once, so tokio-native-tls never zeroes it again.
    buf: Box<[u8]>,
}

impl TlsIo {
    /// Reads at most `room` bytes into the buffer of its own (never zeroed
    /// again); what was read, for the caller to copy into its buffer.
    fn poll_read_own(&mut self, cx: &mut Context<'_>, room: usize) -> Poll<io::Result<&[u8]>> {
        let TlsIo { stream, buf } = self;
        let mut read = ReadBuf::new(buf.get_mut(..room.min(TLS_READ)).unwrap_or_default());
        ready!(Pin::new(stream).poll_read(cx, &mut read))?;
        let n = read.filled().len();
        Poll::Ready(Ok(buf.get(..n).unwrap_or_default()))
    }
}

/// The peer's and our addresses, as hyper-util's connector gives them.
impl Connection for Stream {
    fn connected(&self) -> Connected {
        match self {
            Stream::Plain(tcp) => tcp.connected(),
            Stream::Tls(tls) => tls.stream.get_ref().get_ref().get_ref().connected(),
        }
    }
}

/// TCP as it is, TLS through the buffer of its own.
impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(tcp) => Pin::new(tcp).poll_read(cx, buf),
            Stream::Tls(tls) => {
                let read = ready!(tls.poll_read_own(cx, buf.remaining()))?;
                buf.put_slice(read);
                Poll::Ready(Ok(()))
            }
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(tcp) => Pin::new(tcp).poll_write(cx, buf),
            Stream::Tls(tls) => Pin::new(&mut tls.stream).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(tcp) => Pin::new(tcp).poll_flush(cx),
            Stream::Tls(tls) => Pin::new(&mut tls.stream).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(tcp) => Pin::new(tcp).poll_shutdown(cx),
            Stream::Tls(tls) => Pin::new(&mut tls.stream).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(tcp) => Pin::new(tcp).poll_write_vectored(cx, bufs),
            Stream::Tls(tls) => Pin::new(&mut tls.stream).poll_write_vectored(cx, bufs),
        }
    }

    /// TCP writes vectors; a TLS stream does not (hyper then gathers an
    /// answer's pieces into one buffer before it writes).
    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(tcp) => tcp.is_write_vectored(),
            Stream::Tls(tls) => tls.stream.is_write_vectored(),
        }
    }
}

//! HTTPS for `axum::serve`: a listener whose connections do their TLS handshake when first
//! read or written. The handshake therefore runs in the connection's own task (the accept
//! loop never waits on a slow peer), it is bounded by the handshake timeout, and
//! `axum::serve` keeps its graceful shutdown.

use crate::tls::Acceptor;
use axum::serve::Listener;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;
use tokio_rustls::server::TlsStream;

/// Wraps a TCP listener: every accepted connection speaks TLS.
pub struct TlsListener<L> {
    inner: L,
    acceptor: Acceptor,
}

impl<L> TlsListener<L> {
    pub fn new(inner: L, acceptor: Acceptor) -> Self {
        Self { inner, acceptor }
    }
}

impl<L> Listener for TlsListener<L>
where
    L: Listener<Io = TcpStream, Addr = SocketAddr>,
{
    type Io = TlsConnection;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, peer) = self.inner.accept().await;
        let state = State::Handshake {
            accept: Box::new(self.acceptor.start(stream)),
            deadline: Box::pin(tokio::time::sleep(self.acceptor.timeout())),
        };
        (TlsConnection { state, peer }, peer)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// One accepted HTTPS connection: handshaking until its first use, then a TLS stream.
pub struct TlsConnection {
    state: State,
    peer: SocketAddr,
}

enum State {
    Handshake { accept: Box<tokio_rustls::Accept<TcpStream>>, deadline: Pin<Box<Sleep>> },
    Ready(Box<TlsStream<TcpStream>>),
    Failed,
}

impl TlsConnection {
    /// The TLS stream once the handshake is done; drives the handshake until then.
    fn poll_stream(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Pin<&mut TlsStream<TcpStream>>>> {
        if let State::Handshake { accept, deadline } = &mut self.state {
            match Pin::new(accept.as_mut()).poll(cx) {
                Poll::Ready(Ok(stream)) => self.state = State::Ready(Box::new(stream)),
                Poll::Ready(Err(err)) => {
                    tracing::debug!(peer = %self.peer, %err, "TLS handshake failed");
                    self.state = State::Failed;
                    return Poll::Ready(Err(err));
                }
                Poll::Pending => {
                    ready!(deadline.as_mut().poll(cx));
                    tracing::debug!(peer = %self.peer, "TLS handshake timed out");
                    self.state = State::Failed;
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the TLS handshake did not finish in time",
                    )));
                }
            }
        }
        match &mut self.state {
            State::Ready(stream) => Poll::Ready(Ok(Pin::new(stream.as_mut()))),
            _ => Poll::Ready(Err(io::Error::new(io::ErrorKind::NotConnected, "the TLS handshake failed"))),
        }
    }
}

impl AsyncRead for TlsConnection {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        ready!(self.get_mut().poll_stream(cx))?.poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsConnection {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        ready!(self.get_mut().poll_stream(cx))?.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        ready!(self.get_mut().poll_stream(cx))?.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.get_mut().poll_stream(cx))?.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if matches!(this.state, State::Handshake { .. }) {
            // Closing before the handshake finished: there is no TLS session to close.
            this.state = State::Failed;
            return Poll::Ready(Ok(()));
        }
        ready!(this.poll_stream(cx))?.poll_shutdown(cx)
    }
}

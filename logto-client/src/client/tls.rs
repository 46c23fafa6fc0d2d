//! The TLS settings of the clients a [`super::CoreBuilder`] makes.
//!
//! With the `native-tls` feature one connector serves both stacks: reqwest
//! gets it preconfigured, and the direct path's connections shake hands with
//! it as reqwest's own native-tls connector does (`super::connect`). A call
//! verifies its upstream the same way whichever stack sends it. The connector is built as
//! reqwest builds its default one (the system's roots, SNI, host name and
//! certificate verification, ALPN `http/1.1`), plus the roots the builder was
//! given ([`super::CoreBuilder::root_certificate_pem`]).
//!
//! With `rustls` alone, reqwest builds its own configuration, given the same
//! extra roots, and `https://` calls stay on reqwest. With neither feature,
//! extra roots are a configuration error (nothing would use them).

use crate::error::Error;

/// The TLS connector shared by a client's two stacks.
#[cfg(feature = "native-tls")]
pub(crate) type Connector = native_tls::TlsConnector;

/// No TLS connector of ours in this build: `https://` calls go through
/// reqwest (with `rustls`) or fail (with neither feature).
#[cfg(not(feature = "native-tls"))]
#[derive(Clone)]
pub(crate) enum Connector {}

/// The TLS settings of one client we build, from its extra roots, each
/// parsed once.
pub(crate) struct Tls {
    /// The shared connector (with `native-tls`), the roots in it.
    connector: Option<Connector>,
    /// The roots for reqwest's own TLS (with `rustls` alone).
    #[cfg(all(feature = "rustls", not(feature = "native-tls")))]
    roots: Vec<reqwest::Certificate>,
}

impl Tls {
    /// Trusting `roots` (PEM documents of one or more certificates each)
    /// besides the system's.
    pub(crate) fn new(roots: &[Vec<u8>]) -> Result<Self, Error> {
        #[cfg(feature = "native-tls")]
        {
            let mut builder = native_tls::TlsConnector::builder();
            // What reqwest 0.13 sets for its default native-tls connector
            // when it speaks HTTP/1 only (`async_impl::client`,
            // `TlsBackend::NativeTls`); the rest are native-tls's defaults,
            // which reqwest leaves as they are.
            builder.request_alpns(&["http/1.1"]);
            for pem in roots {
                for cert in certificates(pem, native_tls::Certificate::stack_from_pem)? {
                    builder.add_root_certificate(cert);
                }
            }
            let connector = builder.build().map_err(|e| Error::Config {
                message: format!("cannot build the HTTP client's TLS connector: {e}"),
            })?;
            Ok(Self {
                connector: Some(connector),
            })
        }
        #[cfg(all(feature = "rustls", not(feature = "native-tls")))]
        {
            let mut parsed = Vec::new();
            for pem in roots {
                parsed.extend(certificates(pem, reqwest::Certificate::from_pem_bundle)?);
            }
            Ok(Self {
                connector: None,
                roots: parsed,
            })
        }
        #[cfg(not(any(feature = "native-tls", feature = "rustls")))]
        {
            if !roots.is_empty() {
                return Err(Error::Config {
                    message: "a root certificate was given, but this build has no TLS: turn on \
                              logto-client's `native-tls` or `rustls` feature"
                        .to_owned(),
                });
            }
            Ok(Self { connector: None })
        }
    }

    /// The connector the direct path shakes hands with; `None` in builds
    /// without `native-tls`.
    pub(crate) fn connector(&self) -> Option<Connector> {
        self.connector.clone()
    }

    /// Gives reqwest these settings: the shared connector, or (with `rustls`
    /// alone) the extra roots.
    pub(crate) fn configure(&self, builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        #[cfg(feature = "native-tls")]
        if let Some(connector) = &self.connector {
            return builder.tls_backend_preconfigured(connector.clone());
        }
        #[cfg(all(feature = "rustls", not(feature = "native-tls")))]
        return builder.tls_certs_merge(self.roots.clone());
        #[allow(unreachable_code)] // with `rustls` alone
        builder
    }
}

/// The certificates of one PEM document, at least one.
#[cfg(any(feature = "native-tls", feature = "rustls"))]
fn certificates<C, E: std::fmt::Display>(
    pem: &[u8],
    parse: impl Fn(&[u8]) -> Result<Vec<C>, E>,
) -> Result<Vec<C>, Error> {
    match parse(pem) {
        Ok(certs) if !certs.is_empty() => Ok(certs),
        Ok(_) => Err(Error::Config {
            message: "the root certificate given holds no PEM certificate \
                      (-----BEGIN CERTIFICATE-----)"
                .to_owned(),
        }),
        Err(e) => Err(Error::Config {
            message: format!("the root certificate given is not a valid PEM certificate: {e}"),
        }),
    }
}

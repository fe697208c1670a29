//! TLS to PostgreSQL where the URL asks for it: `sslmode` and `sslrootcert` with libpq's
//! meanings (docs/deploy.md, "TLS to the database"), on rustls.
//!
//! tokio-postgres knows only `disable`, `prefer` and `require`, and no `sslrootcert`, so
//! [`split_url`] takes both settings out of the URL before it is parsed, and the certificate
//! check they ask for is done here, by the verifier given to rustls:
//!
//! - `disable`: no TLS.
//! - `prefer` (the default, as in libpq): TLS when the server offers it, plain otherwise.
//! - `require`: TLS or no connection.
//! - `verify-ca`: TLS, and the server's certificate chains to a trusted CA.
//! - `verify-full`: that, and the certificate names the host in the URL.
//!
//! As in libpq, `prefer` and `require` encrypt without checking who answers unless
//! `sslrootcert` is given, and then check the chain as `verify-ca` does: a URL copied from a
//! cloud console (`sslmode=require`, a private CA) keeps working, and one with the CA file
//! is checked. The trusted CAs are the file `sslrootcert` names, or Mozilla's list
//! (webpki-roots) when it is absent or `system`; libpq's default `~/.postgresql/root.crt`
//! is not read, so a private CA is always named in the URL.
//!
//! `sslcert` and `sslkey` (or `PGSSLCERT`, `PGSSLKEY`) give a client certificate and its key,
//! PEM files, for a server whose `pg_hba.conf` asks for one (`cert` authentication or
//! `clientcert=verify-full`); both or neither, read once at the start. libpq's default
//! `~/.postgresql/postgresql.crt` is not read either.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::StoreError;

/// `sslmode`, with libpq's five values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(s: &str) -> Option<SslMode> {
        Some(match s {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            // libpq's `allow` tries plain first; nothing is lost by trying TLS first.
            "allow" => SslMode::Prefer,
            _ => return None,
        })
    }

    /// As written in a URL.
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    /// The mode tokio-postgres is given: it only decides whether TLS is tried or required;
    /// the certificate check is the verifier's.
    pub fn for_client(self) -> tokio_postgres::config::SslMode {
        use tokio_postgres::config::SslMode as C;
        match self {
            SslMode::Disable => C::Disable,
            SslMode::Prefer => C::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => C::Require,
        }
    }
}

/// What the URL (or `PGSSLMODE`, `PGSSLROOTCERT`) asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    pub mode: SslMode,
    /// `sslrootcert`: a PEM file of CA certificates, or `system` (Mozilla's list).
    pub root_cert: Option<String>,
    /// `sslcert` and `sslkey`: the client certificate (chain) and its private key, PEM.
    pub client_cert: Option<(String, String)>,
}

impl TlsSettings {
    /// How the certificate is checked, in words for messages.
    fn roots(&self) -> String {
        match self.root_cert.as_deref() {
            Some(path) if path != "system" => format!("sslrootcert={path}"),
            _ => "Mozilla's CA list (webpki-roots; name a private CA with sslrootcert=PATH)".into(),
        }
    }

    /// The setting a failure is about, as the operator wrote it.
    pub fn setting(&self) -> String {
        let mut s = match self.root_cert.as_deref() {
            Some(path) => format!("sslmode={}, sslrootcert={path}", self.mode.as_str()),
            None => format!("sslmode={}", self.mode.as_str()),
        };
        if let Some((cert, _)) = &self.client_cert {
            s.push_str(&format!(", sslcert={cert}"));
        }
        s
    }
}

/// Takes `sslmode` and `sslrootcert` out of a `postgres://` URL's query (tokio-postgres
/// refuses `verify-*` and `sslrootcert`), falling back to `PGSSLMODE` and `PGSSLROOTCERT`
/// as libpq does. Returns the URL without them, and the settings.
pub fn split_url(url: &str) -> Result<(String, TlsSettings), StoreError> {
    let bad = |message: String| StoreError::Open {
        path: "the PostgreSQL URL".into(),
        message,
    };
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, q),
        None => (url, ""),
    };
    let (mut mode, mut root_cert, mut cert, mut key) = (None, None, None, None);
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "sslmode" => mode = Some(percent_decode(v).map_err(bad)?),
            "sslrootcert" => root_cert = Some(percent_decode(v).map_err(bad)?),
            "sslcert" => cert = Some(percent_decode(v).map_err(bad)?),
            "sslkey" => key = Some(percent_decode(v).map_err(bad)?),
            _ => rest.push(pair),
        }
    }
    let mode = mode.or_else(|| std::env::var("PGSSLMODE").ok().filter(|v| !v.is_empty()));
    let root_cert = root_cert.or_else(|| {
        std::env::var("PGSSLROOTCERT")
            .ok()
            .filter(|v| !v.is_empty())
    });
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let cert = cert.or_else(|| env("PGSSLCERT"));
    let key = key.or_else(|| env("PGSSLKEY"));
    let client_cert = match (cert, key) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        (Some(c), None) => {
            return Err(bad(format!(
                "sslcert={c} needs sslkey=PATH too (the certificate's private key, PEM)"
            )))
        }
        (None, Some(k)) => {
            return Err(bad(format!(
                "sslkey={k} needs sslcert=PATH too (the client certificate, PEM)"
            )))
        }
    };
    let mode = match mode {
        None => SslMode::Prefer,
        Some(m) => SslMode::parse(&m).ok_or_else(|| {
            bad(format!(
                "sslmode={m} is not one of disable, prefer, require, verify-ca, verify-full"
            ))
        })?,
    };
    let url = if rest.is_empty() {
        head.to_string()
    } else {
        format!("{head}?{}", rest.join("&"))
    };
    Ok((
        url,
        TlsSettings {
            mode,
            root_cert,
            client_cert,
        },
    ))
}

/// `%XX` escapes of a URL query value (a path in `sslrootcert` may hold `/` as `%2F`).
fn percent_decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = s
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("a bad %-escape in the URL's query at {:?}", &s[i..]))?;
                out.push(hex);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| "the URL's query is not UTF-8".into())
}

/// The rustls connector for `settings`; reads the `sslrootcert` file once, here, so a bad
/// path stops the start with a line naming it.
pub fn connector(
    settings: &TlsSettings,
) -> Result<tokio_postgres_rustls::MakeRustlsConnect, StoreError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let check = match settings.mode {
        // Never used: tokio-postgres does not try TLS then.
        SslMode::Disable => Check::Nothing,
        SslMode::Prefer | SslMode::Require if settings.root_cert.is_none() => Check::Nothing,
        SslMode::Prefer | SslMode::Require | SslMode::VerifyCa => Check::Chain,
        SslMode::VerifyFull => Check::ChainAndName,
    };
    let webpki = match (&check, settings.mode) {
        (Check::Nothing, _) | (_, SslMode::Disable) => None,
        _ => {
            let roots = root_store(settings.root_cert.as_deref())?;
            Some(
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| StoreError::TlsRootCert {
                        path: settings.root_cert.clone().unwrap_or_default(),
                        message: e.to_string(),
                    })?,
            )
        }
    };
    let verifier = Verifier {
        check,
        webpki,
        provider: provider.clone(),
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Open {
            path: "TLS".into(),
            message: e.to_string(),
        })?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let config = match (&settings.client_cert, settings.mode) {
        (Some((cert, key)), mode) if mode != SslMode::Disable => {
            let (chain, key_der) = client_identity(cert, key)?;
            builder.with_client_auth_cert(chain, key_der).map_err(|e| {
                StoreError::TlsClientCert {
                    setting: format!("sslcert={cert}, sslkey={key}"),
                    message: format!("the key does not go with the certificate: {e}"),
                }
            })?
        }
        _ => builder.with_no_client_auth(),
    };
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// The client certificate chain and its key, read from their PEM files.
fn client_identity(
    cert: &str,
    key: &str,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), StoreError> {
    let bad = |setting: String, message: String| StoreError::TlsClientCert { setting, message };
    let cert_pem = std::fs::read(cert).map_err(|e| {
        bad(
            format!("sslcert={cert}"),
            format!("cannot read the file: {e}"),
        )
    })?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            bad(
                format!("sslcert={cert}"),
                format!("not a PEM certificate: {e}"),
            )
        })?;
    if chain.is_empty() {
        return Err(bad(
            format!("sslcert={cert}"),
            "holds no certificate (-----BEGIN CERTIFICATE----- blocks are expected)".into(),
        ));
    }
    let key_pem = std::fs::read(key).map_err(|e| {
        bad(
            format!("sslkey={key}"),
            format!("cannot read the file: {e}"),
        )
    })?;
    let key_der = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        bad(
            format!("sslkey={key}"),
            format!("not a PEM private key (PKCS#8, PKCS#1 or SEC1): {e}"),
        )
    })?;
    Ok((chain, key_der))
}

/// The CAs trusted: the PEM file, or Mozilla's list for none or `system`.
fn root_store(root_cert: Option<&str>) -> Result<RootCertStore, StoreError> {
    let path = match root_cert {
        None | Some("system") => {
            return Ok(RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            })
        }
        Some(p) => p,
    };
    let bad = |message: String| StoreError::TlsRootCert {
        path: path.to_string(),
        message,
    };
    let pem = std::fs::read(path).map_err(|e| bad(format!("cannot read the file: {e}")))?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| bad(format!("not a PEM file of certificates: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| bad(format!("a certificate in it cannot be used as a CA: {e}")))?;
    }
    if roots.is_empty() {
        return Err(bad(
            "holds no certificate (a PEM file with -----BEGIN CERTIFICATE----- blocks is expected)"
                .into(),
        ));
    }
    Ok(roots)
}

/// A failed connection's error as the operator should read it: a TLS failure becomes
/// [`StoreError::Tls`] naming the setting and what to change; anything else is None.
pub fn classify(
    e: &tokio_postgres::Error,
    settings: &TlsSettings,
    database: &str,
    host: &str,
) -> Option<StoreError> {
    let rustls_error = find_rustls_error(e);
    let text = e.to_string();
    if rustls_error.is_none() && !text.starts_with("error performing TLS handshake") {
        return None;
    }
    let message = match rustls_error {
        Some(rustls::Error::InvalidCertificate(c)) => match c {
            CertificateError::UnknownIssuer | CertificateError::BadSignature => format!(
                "the server's certificate is not signed by a CA in {} ({c:?})",
                settings.roots()
            ),
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!(
                    "the server's certificate is not for the host {host} \
                     (verify-full checks the host name, verify-ca does not)"
                )
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "the server's certificate has expired".into()
            }
            other => format!("the server's certificate was refused: {other:?}"),
        },
        Some(other) => format!("the handshake failed: {other}"),
        None => text,
    };
    Some(StoreError::Tls {
        database: database.to_string(),
        setting: settings.setting(),
        message,
    })
}

/// The rustls error under a tokio-postgres one (it sits inside an `io::Error`, whose own
/// `source()` skips it).
fn find_rustls_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut cur: Option<&'a (dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        if let Some(r) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(r);
        }
        cur = err.source();
    }
    None
}

/// What is checked of the server's certificate.
#[derive(Debug)]
enum Check {
    /// Encryption only (`prefer`, `require` without `sslrootcert`): the handshake's
    /// signatures are still checked, the certificate's issuer and name are not.
    Nothing,
    /// It chains to a trusted CA (`verify-ca`; `require` with `sslrootcert`).
    Chain,
    /// That, and it names the host (`verify-full`).
    ChainAndName,
}

#[derive(Debug)]
struct Verifier {
    check: Check,
    webpki: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(webpki) = &self.webpki else {
            return Ok(ServerCertVerified::assertion());
        };
        let r =
            webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now);
        match (&self.check, r) {
            // webpki checks the chain before the name: a name error means the chain is good.
            (
                Check::Chain,
                Err(rustls::Error::InvalidCertificate(
                    CertificateError::NotValidForName
                    | CertificateError::NotValidForNameContext { .. },
                )),
            ) => Ok(ServerCertVerified::assertion()),
            (Check::Nothing, _) => Ok(ServerCertVerified::assertion()),
            (_, r) => r,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_and_sslrootcert_are_taken_out_of_the_url() {
        let (url, s) = split_url(
            "postgres://kotae@db:5432/kotae?application_name=x&sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem",
        )
        .unwrap();
        assert_eq!(url, "postgres://kotae@db:5432/kotae?application_name=x");
        assert_eq!(s.mode, SslMode::VerifyFull);
        assert_eq!(s.root_cert.as_deref(), Some("/etc/ca.pem"));
        let (url, s) = split_url("postgres://kotae@db/kotae?sslmode=require").unwrap();
        assert_eq!(url, "postgres://kotae@db/kotae");
        assert_eq!(s.mode, SslMode::Require);
    }

    #[test]
    fn an_unknown_sslmode_is_named() {
        let e = split_url("postgres://kotae@db/kotae?sslmode=verify").unwrap_err();
        assert!(
            e.to_string().contains("sslmode=verify is not one of"),
            "{e}"
        );
    }

    #[test]
    fn a_bad_sslrootcert_is_named_with_its_path() {
        let settings = TlsSettings {
            mode: SslMode::VerifyFull,
            root_cert: Some("/nonexistent/kotae-ca.pem".into()),
            client_cert: None,
        };
        let e = connector(&settings).err().expect("refused");
        assert!(matches!(e, StoreError::TlsRootCert { .. }), "{e:?}");
        assert!(
            e.to_string()
                .contains("sslrootcert=/nonexistent/kotae-ca.pem"),
            "{e}"
        );
        let dir = tempfile::tempdir().unwrap();
        let not_pem = dir.path().join("ca.pem");
        std::fs::write(&not_pem, "hello").unwrap();
        let settings = TlsSettings {
            mode: SslMode::VerifyCa,
            root_cert: Some(not_pem.display().to_string()),
            client_cert: None,
        };
        let e = connector(&settings).err().expect("refused");
        assert!(e.to_string().contains("holds no certificate"), "{e}");
        // `disable` does not read it, as libpq.
        let settings = TlsSettings {
            mode: SslMode::Disable,
            root_cert: Some("/nonexistent/kotae-ca.pem".into()),
            client_cert: None,
        };
        assert!(connector(&settings).is_ok());
    }

    #[test]
    fn a_client_certificate_needs_both_files_and_names_the_one_at_fault() {
        let e = split_url("postgres://k@db/k?sslmode=require&sslcert=%2Fetc%2Fc.pem").unwrap_err();
        assert!(
            e.to_string()
                .contains("sslcert=/etc/c.pem needs sslkey=PATH"),
            "{e}"
        );
        let e = split_url("postgres://k@db/k?sslkey=/etc/k.pem").unwrap_err();
        assert!(
            e.to_string()
                .contains("sslkey=/etc/k.pem needs sslcert=PATH"),
            "{e}"
        );
        let (url, s) =
            split_url("postgres://k@db/k?sslmode=require&sslcert=/c.pem&sslkey=/k.pem").unwrap();
        assert_eq!(url, "postgres://k@db/k");
        assert_eq!(s.client_cert, Some(("/c.pem".into(), "/k.pem".into())));

        let dir = tempfile::tempdir().unwrap();
        let not_pem = dir.path().join("c.pem");
        std::fs::write(&not_pem, "hello").unwrap();
        let settings = |cert: &str, key: &str| TlsSettings {
            mode: SslMode::Require,
            root_cert: None,
            client_cert: Some((cert.into(), key.into())),
        };
        let e = connector(&settings("/nonexistent/c.pem", "/nonexistent/k.pem"))
            .err()
            .expect("refused");
        assert!(matches!(e, StoreError::TlsClientCert { .. }), "{e:?}");
        assert!(
            e.to_string()
                .starts_with("sslcert=/nonexistent/c.pem: cannot read"),
            "{e}"
        );
        let path = not_pem.display().to_string();
        let e = connector(&settings(&path, &path)).err().expect("refused");
        assert!(e.to_string().contains("holds no certificate"), "{e}");
    }
}

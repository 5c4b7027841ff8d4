//! TLS configuration: which certificates to trust (`verify`).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::config::Verify;
use crate::error::{Error, Result};

/// The rustls configuration for `verify`: bundled roots, a CA bundle file, or none.
pub(crate) fn client_config(verify: &Verify) -> Result<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::invalid_setting("verify", "TLS setup failed").with_source(e))?;
    // ALPN is set by hyper-rustls from the enabled HTTP versions.
    let config = match verify {
        Verify::Default => builder.with_root_certificates(default_roots()?).with_no_client_auth(),
        Verify::CaBundle(path) => {
            let mut roots = RootCertStore::empty();
            let certs = CertificateDer::pem_file_iter(path).map_err(|e| {
                Error::invalid_setting("verify", format!("cannot read CA bundle {}", path.display())).with_source(e)
            })?;
            for cert in certs {
                let cert = cert.map_err(|e| {
                    Error::invalid_setting("verify", format!("malformed certificate in {}", path.display()))
                        .with_source(e)
                })?;
                roots.add(cert).map_err(|e| {
                    Error::invalid_setting("verify", format!("unusable certificate in {}", path.display()))
                        .with_source(e)
                })?;
            }
            if roots.is_empty() {
                return Err(Error::invalid_setting(
                    "verify",
                    format!("no certificate in {}", path.display()),
                ));
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Verify::Off => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
            .with_no_client_auth(),
    };
    Ok(config)
}

#[cfg(not(feature = "native-roots"))]
fn default_roots() -> Result<RootCertStore> {
    Ok(RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    })
}

#[cfg(feature = "native-roots")]
fn default_roots() -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    for cert in found.certs {
        // Unusable system certificates are skipped, as browsers do.
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        return Err(Error::invalid_setting(
            "verify",
            "no usable certificate in the system store",
        ));
    }
    Ok(roots)
}

/// `verify = false`: accepts any certificate. Signatures are still checked so that the
/// handshake itself is sound; only the identity of the server is not.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

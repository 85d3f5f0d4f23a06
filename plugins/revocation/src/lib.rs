//! OCSP and CRL revocation checking with a disk cache and offline bundles

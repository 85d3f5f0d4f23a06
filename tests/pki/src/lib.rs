//! Test PKI: CAs, intermediates and leaves for every Notary key spec, compliant and not

//! Notary Project X.509 rules shared by the signer and the verifier: chain building, code-signing certificate checks, key specs

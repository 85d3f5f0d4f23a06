//! TLS test vault speaking the Azure Key Vault REST API, for the project's tests

//! Azure Key Vault access for notation-akv: key ids, credentials, deadlines and error mapping

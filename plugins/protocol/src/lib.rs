//! Notation plugin protocol (contract 1.0): wire types, error codes and the command runner shared by both plugins

// Placeholder: this module's files are being written; see docs/ARCHITECTURE.md.

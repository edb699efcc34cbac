"""Property-based contract checks for any WA.cr API v2 implementation."""

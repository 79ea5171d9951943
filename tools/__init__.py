"""Developer tools kept outside the installed package (never imported by it)."""

"""Internal helpers. Everything here is internal and unstable, with no stability guarantee."""

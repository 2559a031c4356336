"""tnld: the labour-accident (TNLĐ) reporting service."""

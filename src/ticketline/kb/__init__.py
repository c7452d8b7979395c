"""Knowledge base articles and search."""

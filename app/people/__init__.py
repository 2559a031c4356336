"""People: the persons who use tnld's web pages, each acting for one organisation, and their
server-side sessions."""

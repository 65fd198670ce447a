"""Which view a request asks for, resolved once for pages, exports and wall displays."""

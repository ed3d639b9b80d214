"""Mail in and out: reading raw messages, threading them, the outbound queue."""

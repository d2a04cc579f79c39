"""電子決裁: signed, hash-chained decision records and the approval key ring that signs them."""

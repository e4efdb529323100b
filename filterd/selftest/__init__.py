"""The filter self-test: real DNS questions to the running filterd, checking that what should be
blocked is, that the encrypted-DNS canaries are answered, and that every blocked category has
names in some list (a category no list covers blocks nothing, however it is set)."""

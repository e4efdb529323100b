"""DNS messages: the wire format, records, answers built from bytes, cleaning upstream answers,
and the Query/Reply that flow through the chain."""

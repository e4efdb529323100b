"""DNS messages: the wire format, records, answers built from bytes, answers to blocked names
(block_answers.py), cleaning upstream answers, and the Query/Reply that flow through the
chain."""

"""Device discovery: which device (MAC) is behind each address, its name and vendor.

The only package that imports scapy.
"""

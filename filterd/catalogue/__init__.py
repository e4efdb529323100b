"""The app catalogue: services children use (TikTok, Roblox, YouTube) and the names each needs.

model.py holds the frozen catalogue and its name lookup, load.py reads and checks the file
(blocklists/services.yaml), service.py keeps the one in force inside the daemon.
"""

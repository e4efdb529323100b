"""filterd: home-network DNS filtering for homes that look after children in care."""

__version__ = "0.1.0"

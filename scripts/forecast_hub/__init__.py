"""forecast-hub: client CSV feeds to a forecast draft planners can adjust."""

__version__ = "0.1.0"

"""`python -m forecast_hub` is the `forecast-hub` command."""

from forecast_hub.cli import main

main()

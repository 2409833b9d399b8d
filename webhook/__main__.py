"""Allow ``python -m webhook``."""

from __future__ import annotations

from webhook.cli import main

raise SystemExit(main())

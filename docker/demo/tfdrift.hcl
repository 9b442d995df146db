# tfdrift's config for the demo profile (`docker compose --profile demo up`),
# mounted read-only at /etc/tfdrift/tfdrift.hcl in the tfdrift-demo service.
# Everything here is for the demo's emulator and stand-in webhook: it scans
# every minute and sends the digest every minute, which no real team wants.
# See docs/config.md for the fields and docs/deployment.md for the demo.

workspace "demo" {
  # Written by the seed service (docker/demo/seed.py) into the demo-state
  # volume, which tfdrift-demo mounts read-only at /demo-state.
  states  = ["/demo-state/terraform.tfstate"]
  regions = ["us-east-1"]

  # Cron, seconds first: a scan every minute (the default is every 6 hours).
  schedule = "0 * * * * *"

  slack {
    # The variable the compose file sets to the webhook service's URL. Its
    # http:// address outside hooks.slack.com is allowed for the demo only.
    webhook_env            = "TFDRIFT_DEMO_WEBHOOK"
    allow_any_webhook_host = true
  }

  # The digest every minute too (the default is Mondays at 09:00): each one
  # covers the last 7 days of history and waits for that minute's scan, so
  # every one shows the seeded drift.
  digest {
    enabled  = true
    schedule = "0 * * * * *"
    timezone = "UTC"
    days     = 7
  }
}

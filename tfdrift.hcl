# tfdrift's config for `docker compose up` (docs/deployment.md), mounted
# read-only at /etc/tfdrift/tfdrift.hcl. Field by field: docs/config.md.
#
# As shipped it names no workspace: the daemon starts, scans nothing and
# sends nothing, so a fresh `docker compose up` is harmless. (`tfdrift scan`
# run in this directory reads this file too; with no workspaces it behaves
# as without a config.) The database is set by the image (TFDRIFT_DB), on
# the tfdrift-data volume; do not set `database` here.
#
# To scan an account, add a workspace. States are files mounted into the
# container or s3:// URLs; credentials come from the environment or the
# mounted ~/.aws (see docs/deployment.md):
#
# workspace "production" {
#   states   = ["s3://acme-tf-state/prod/terraform.tfstate"]
#   regions  = ["eu-west-1"]
#   profile  = "prod-readonly"   # optional: a profile from ~/.aws
#   schedule = "0 0 */6 * * *"   # cron, seconds first: every 6 hours
#
#   # The weekly digest is opt-in: it needs both blocks. The webhook URL
#   # goes in the environment variable named here (set it for the tfdrift
#   # service in docker-compose.yml), never in this file.
#   slack {
#     webhook_env = "TFDRIFT_SLACK_PRODUCTION"
#   }
#   digest {
#     enabled  = true
#     schedule = "0 0 9 * * Mon"   # Mondays at 09:00
#     timezone = "Europe/Berlin"
#   }
# }

# The same inputs as deploy/cloudformation/template.yaml, in snake_case.
variable "name" {
  type        = string
  description = "Prefix for every resource name."
  default     = "aws-siem-connector"
}
variable "log_bucket_name" {
  type        = string
  description = "Bucket that receives CloudTrail / VPC Flow Log objects."
}
variable "create_log_bucket" {
  type        = bool
  default     = false
  description = "Create the bucket. When false, the module manages only the notification on the existing bucket (aws_s3_bucket_notification replaces the bucket's whole notification configuration)."
}
variable "manage_bucket_notification" {
  type        = bool
  default     = true
  description = "Set the S3 -> SQS notification. Turn off when another stack owns the bucket's notifications and merge the notification_configuration output there."
}
variable "log_key_prefix" {
  type    = string
  default = "AWSLogs/"
}
variable "log_bucket_kms_key_arn" {
  type    = string
  default = ""
}
variable "unmatched_keys" {
  description = "Objects whose key is not an AWS log layout: skip them, or let their content decide (auto; for Firehose keys)."
  type        = string
  default     = "skip"
  validation {
    condition     = contains(["skip", "auto"], var.unmatched_keys)
    error_message = "unmatched_keys must be skip or auto."
  }
}
variable "flow_formats" {
  description = "Custom flow log formats for lines without a header (CloudWatch Logs / Firehose route), comma-separated."
  type        = string
  default     = ""
}
variable "log_bucket_account_id" {
  description = "Account that owns the log bucket when it is not this one (a log-archive account); empty: this account."
  type        = string
  default     = ""
}
variable "source_role_arn" {
  description = "Role the consumer assumes to read the log objects (e.g. a log-archive account's); empty reads them with its own role."
  type        = string
  default     = ""
}
variable "source_role_external_id" {
  description = "External id the source role's trust policy requires, if any."
  type        = string
  default     = ""
}
variable "poll_locations" {
  description = "For a log bucket whose notifications cannot be had: s3://bucket/prefix locations (under log_key_prefix) the consumer lists on poll_schedule, keeping its state in the dead-letter bucket. Empty: notifications only."
  type        = list(string)
  default     = []
}
variable "poll_schedule" {
  description = "How often the consumer polls poll_locations (EventBridge schedule expression)."
  type        = string
  default     = "rate(1 minute)"
}
variable "code_s3_bucket" {
  type = string
}
variable "code_s3_key" {
  type = string
}
variable "hec_urls" {
  type    = string
  default = ""
}
variable "hec_token_secret_arn" {
  type    = string
  default = ""
}
variable "hec_index" {
  description = "Splunk index for events (empty: the token's default index)."
  type        = string
  default     = ""
}
variable "hec_cloudtrail_index" {
  description = "Splunk index for CloudTrail events, over hec_index (empty: hec_index)."
  type        = string
  default     = ""
}
variable "hec_vpcflow_index" {
  description = "Splunk index for VPC flow events, over hec_index (empty: hec_index)."
  type        = string
  default     = ""
}
variable "search_node" {
  type    = string
  default = ""
}
variable "search_flavour" {
  type    = string
  default = "elasticsearch"
  validation {
    condition     = contains(["elasticsearch", "opensearch"], var.search_flavour)
    error_message = "search_flavour is elasticsearch or opensearch."
  }
}
variable "search_credentials_secret_arn" {
  type    = string
  default = ""
}
variable "deploy_webhook" {
  type    = bool
  default = true
}
variable "webhook_token_secret_arn" {
  type    = string
  default = ""
}
variable "waf_ip_set_arn" {
  description = "WAFv2 IPv4 IP set the webhook may add addresses to (empty refuses IPv4 addresses); name, id and scope come from the ARN."
  type        = string
  default     = ""
  validation {
    condition     = can(regex("^$|^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:[0-9]{12}:(regional|global)/ipset/[^/]+/[^/]+$", var.waf_ip_set_arn))
    error_message = "waf_ip_set_arn is empty or a WAFv2 IP set ARN (arn:aws:wafv2:REGION:ACCOUNT:regional/ipset/NAME/ID)."
  }
}
variable "waf_ipv6_set_arn" {
  description = "WAFv2 IPv6 IP set, same scope as waf_ip_set_arn (empty refuses IPv6 addresses)."
  type        = string
  default     = ""
  validation {
    condition     = can(regex("^$|^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:[0-9]{12}:(regional|global)/ipset/[^/]+/[^/]+$", var.waf_ipv6_set_arn))
    error_message = "waf_ipv6_set_arn is empty or a WAFv2 IP set ARN (arn:aws:wafv2:REGION:ACCOUNT:regional/ipset/NAME/ID)."
  }
}
variable "iam_response_user_path" {
  description = "IAM path (e.g. /humans/) under which the webhook may disable users and revoke the sessions of roles; empty disables that response. The function refuses principals elsewhere (respond.iam.paths)."
  type        = string
  default     = ""
  validation {
    # Not "/": that would cover every user and role, the webhook's own role included (PutRolePolicy on itself).
    condition     = can(regex("^$|^/[!-~]+/$", var.iam_response_user_path))
    error_message = "iam_response_user_path is empty or an IAM path below the root, such as /humans/."
  }
}
variable "ec2_response_enabled" {
  type    = bool
  default = false
}
variable "response_dry_run" {
  description = "true (the default): alert-driven responses plan only. false: the webhook applies the responses enabled by waf_ip_set_arn, iam_response_user_path and ec2_response_enabled."
  type        = bool
  default     = true
}
variable "response_state_bucket_name" {
  description = "Existing bucket for the response action store (idempotency keys, undo state, WAF block expiry). Empty creates a versioned, encrypted, private bucket."
  type        = string
  default     = ""
}
variable "response_state_prefix" {
  description = "Key prefix of the action store in the state bucket; the webhook may read and write only there."
  type        = string
  default     = "response-state"
  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*()-]+(/[A-Za-z0-9!_.*()-]+)*$", var.response_state_prefix))
    error_message = "response_state_prefix is a key prefix without leading or trailing slash, e.g. response-state."
  }
}
variable "response_state_retention_days" {
  description = "Days a finished response record (undone by a person or by the TTL sweep) stays in the action store before the sweep deletes it; 0 keeps every record. Records not undone are never deleted; the audit log is the permanent record."
  type        = number
  default     = 90
  validation {
    condition     = var.response_state_retention_days >= 0 && var.response_state_retention_days <= 36500 && floor(var.response_state_retention_days) == var.response_state_retention_days
    error_message = "response_state_retention_days is a whole number of days from 0 to 36500."
  }
}
variable "sweep_schedule" {
  description = "How often the webhook function removes expired WAF blocks (EventBridge schedule expression; not in dry run)."
  type        = string
  default     = "rate(5 minutes)"
}
variable "function_timeout" {
  type    = number
  default = 300
}
variable "function_memory" {
  type    = number
  default = 1024
}
variable "queue_visibility_timeout" {
  type    = number
  default = 1800
  validation {
    condition     = var.queue_visibility_timeout >= 180 && var.queue_visibility_timeout <= 43200
    error_message = "queue_visibility_timeout is 180..43200 seconds and should be at least 6 x function_timeout."
  }
}
variable "max_receive_count" {
  type    = number
  default = 5
}
variable "batch_size" {
  type    = number
  default = 10
}
variable "maximum_batching_window_in_seconds" {
  type    = number
  default = 5
}
variable "maximum_concurrency" {
  type    = number
  default = 10
}
variable "oldest_message_alarm_seconds" {
  type    = number
  default = 900
}
variable "alarm_topic_arn" {
  type    = string
  default = ""
}
variable "log_level" {
  type    = string
  default = "info"
}
variable "subnet_ids" {
  description = "Subnets to run the functions in, for a SIEM reachable only inside a VPC (empty: no VPC). They need a way to S3 and Secrets Manager: VPC endpoints, a NAT gateway or https_proxy."
  type        = list(string)
  default     = []
}
variable "security_group_ids" {
  description = "Security groups of the functions in the VPC (with subnet_ids)."
  type        = list(string)
  default     = []
}
variable "https_proxy" {
  description = "Egress proxy for every connection the functions open (HTTPS_PROXY), e.g. http://proxy.internal:3128."
  type        = string
  default     = ""
}
variable "no_proxy" {
  description = "Destinations reached without the proxy (NO_PROXY, comma-separated), e.g. VPC endpoints."
  type        = string
  default     = ""
}

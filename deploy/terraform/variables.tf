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
  type    = string
  default = ""
}
variable "iam_response_user_path" {
  description = "IAM path (e.g. /humans/) under which the webhook may disable users and revoke the sessions of roles; empty disables that response."
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

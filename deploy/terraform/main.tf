# aws-siem-connector on Lambda: the same resources as deploy/cloudformation/template.yaml.
# IAM policy documents live in policies/*.json.tftpl so that one linter checks them with the others.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  bucket_arn = "arn:${local.partition}:s3:::${var.log_bucket_name}"
  consumer_secrets = { for k, v in {
    hec    = var.hec_token_secret_arn
    search = var.search_credentials_secret_arn
  } : k => v if v != "" }
  alarm_actions = var.alarm_topic_arn == "" ? [] : [var.alarm_topic_arn]
  # The response action store: a bucket this module creates, or the one named by response_state_bucket_name.
  create_state_bucket = var.deploy_webhook && var.response_state_bucket_name == ""
  state_bucket        = var.response_state_bucket_name != "" ? var.response_state_bucket_name : one(aws_s3_bucket.response_state[*].id)
  notification = {
    QueueConfigurations = [{
      Id       = "aws-siem-connector"
      QueueArn = aws_sqs_queue.notifications.arn
      Events   = ["s3:ObjectCreated:*"]
      Filter   = { Key = { FilterRules = [{ Name = "prefix", Value = var.log_key_prefix }] } }
    }]
  }
}

resource "aws_sqs_queue" "dead_letter" {
  name                      = "${var.name}-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}

resource "aws_sqs_queue" "notifications" {
  name                       = "${var.name}-notifications"
  visibility_timeout_seconds = var.queue_visibility_timeout
  message_retention_seconds  = 1209600
  receive_wait_time_seconds  = 20
  sqs_managed_sse_enabled    = true
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letter.arn
    maxReceiveCount     = var.max_receive_count
  })
}

resource "aws_sqs_queue_policy" "notifications" {
  queue_url = aws_sqs_queue.notifications.id
  policy = templatefile("${path.module}/policies/queue.json.tftpl", {
    queue_arn  = aws_sqs_queue.notifications.arn
    partition  = local.partition
    bucket     = var.log_bucket_name
    account_id = var.log_bucket_account_id == "" ? local.account_id : var.log_bucket_account_id
  })
}

resource "aws_s3_bucket" "logs" {
  count  = var.create_log_bucket ? 1 : 0
  bucket = var.log_bucket_name
}

resource "aws_s3_bucket_public_access_block" "logs" {
  count                   = var.create_log_bucket ? 1 : 0
  bucket                  = aws_s3_bucket.logs[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_notification" "logs" {
  count  = var.manage_bucket_notification ? 1 : 0
  bucket = var.create_log_bucket ? aws_s3_bucket.logs[0].id : var.log_bucket_name
  queue {
    id            = "aws-siem-connector"
    queue_arn     = aws_sqs_queue.notifications.arn
    events        = ["s3:ObjectCreated:*"]
    filter_prefix = var.log_key_prefix
  }
  depends_on = [aws_sqs_queue_policy.notifications]
}

resource "aws_s3_bucket" "dead_letters" {
  bucket_prefix = "${var.name}-dead-letters-"
}

resource "aws_s3_bucket_public_access_block" "dead_letters" {
  bucket                  = aws_s3_bucket.dead_letters.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_lifecycle_configuration" "dead_letters" {
  bucket = aws_s3_bucket.dead_letters.id
  rule {
    id     = "expire-dead-letters"
    status = "Enabled"
    filter {}
    expiration {
      days = 90
    }
  }
}

# --- consumer -------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "consumer" {
  name              = "/aws/lambda/${var.name}-consumer"
  retention_in_days = 30
}

resource "aws_iam_role" "consumer" {
  name               = "${var.name}-consumer"
  assume_role_policy = templatefile("${path.module}/policies/lambda-trust.json.tftpl", {})
}

resource "aws_iam_role_policy" "consumer" {
  role = aws_iam_role.consumer.id
  policy = templatefile("${path.module}/policies/consumer.json.tftpl", {
    queue_arn              = aws_sqs_queue.notifications.arn
    partition              = local.partition
    bucket                 = var.log_bucket_name
    prefix                 = var.log_key_prefix
    dead_letter_bucket_arn = aws_s3_bucket.dead_letters.arn
    log_group_arn          = aws_cloudwatch_log_group.consumer.arn
  })
}

resource "aws_iam_role_policy" "consumer_kms" {
  count  = var.log_bucket_kms_key_arn == "" ? 0 : 1
  role   = aws_iam_role.consumer.id
  policy = templatefile("${path.module}/policies/kms.json.tftpl", { kms_key_arn = var.log_bucket_kms_key_arn })
}

resource "aws_iam_role_policy" "consumer_source_role" {
  count  = var.source_role_arn == "" ? 0 : 1
  name   = "assume-source-role"
  role   = aws_iam_role.consumer.id
  policy = templatefile("${path.module}/policies/source-role.json.tftpl", { role_arn = var.source_role_arn })
}

# In a VPC, Lambda attaches the functions through network interfaces it creates with their roles.
resource "aws_iam_role_policy_attachment" "consumer_vpc" {
  count      = length(var.subnet_ids) > 0 ? 1 : 0
  role       = aws_iam_role.consumer.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

resource "aws_iam_role_policy" "consumer_secrets" {
  for_each = local.consumer_secrets
  name     = "read-${each.key}-secret"
  role     = aws_iam_role.consumer.id
  policy   = templatefile("${path.module}/policies/secret.json.tftpl", { secret_arn = each.value })
}

# With poll_locations, the consumer also lists buckets without notifications on poll_schedule.
resource "aws_iam_role_policy" "consumer_poll" {
  count = length(var.poll_locations) > 0 ? 1 : 0
  name  = "poll-log-bucket"
  role  = aws_iam_role.consumer.id
  policy = templatefile("${path.module}/policies/poll.json.tftpl", {
    partition              = local.partition
    bucket                 = var.log_bucket_name
    prefix                 = var.log_key_prefix
    dead_letter_bucket_arn = aws_s3_bucket.dead_letters.arn
  })
}

resource "aws_lambda_function" "consumer" {
  function_name = "${var.name}-consumer"
  description   = "aws-siem-connector SQS consumer"
  runtime       = "nodejs22.x"
  handler       = "dist/source/lambda.handler"
  s3_bucket     = var.code_s3_bucket
  s3_key        = var.code_s3_key
  role          = aws_iam_role.consumer.arn
  timeout       = var.function_timeout
  memory_size   = var.function_memory
  architectures = ["arm64"]
  dynamic "vpc_config" {
    for_each = length(var.subnet_ids) > 0 ? [1] : []
    content {
      subnet_ids         = var.subnet_ids
      security_group_ids = var.security_group_ids
    }
  }
  environment {
    variables = {
      NODE_OPTIONS                      = "--enable-source-maps"
      ASC_LOG_LEVEL                     = var.log_level
      ASC_HEC_URLS                      = var.hec_urls
      ASC_HEC_TOKEN_SECRET_ARN          = var.hec_token_secret_arn
      ASC_HEC_INDEX                     = var.hec_index # empty: the token's default
      ASC_HEC_CLOUDTRAIL_INDEX          = var.hec_cloudtrail_index
      ASC_HEC_VPCFLOW_INDEX             = var.hec_vpcflow_index
      ASC_SEARCH_NODE                   = var.search_node
      ASC_SEARCH_FLAVOUR                = var.search_node == "" ? "" : var.search_flavour # no search sink: unset
      ASC_SEARCH_CREDENTIALS_SECRET_ARN = var.search_credentials_secret_arn
      ASC_DEAD_LETTER_S3                = "s3://${aws_s3_bucket.dead_letters.id}/dead-letters/"
      ASC_UNMATCHED_KEYS                = var.unmatched_keys
      ASC_FLOW_FORMATS                  = var.flow_formats            # empty: unset
      ASC_SOURCE_ROLE_ARN               = var.source_role_arn         # empty: unset
      ASC_SOURCE_EXTERNAL_ID            = var.source_role_external_id # empty: unset
      HTTPS_PROXY                       = var.https_proxy             # empty: no proxy
      NO_PROXY                          = var.no_proxy
      ASC_S3_POLL_LOCATIONS             = join(",", var.poll_locations) # empty: no polling
      ASC_S3_POLL_STATE_S3              = length(var.poll_locations) > 0 ? "s3://${aws_s3_bucket.dead_letters.id}/poll-state/" : ""
    }
  }
  depends_on = [aws_cloudwatch_log_group.consumer]
}

# One round of the S3 poller per scheduled event; a round holds the state until it ends, so an invocation
# that starts while the previous one still runs stands by.
resource "aws_cloudwatch_event_rule" "poll" {
  count               = length(var.poll_locations) > 0 ? 1 : 0
  name                = "${var.name}-s3-poll"
  description         = "aws-siem-connector S3 poll of buckets without notifications"
  schedule_expression = var.poll_schedule
}

resource "aws_cloudwatch_event_target" "poll" {
  count     = length(var.poll_locations) > 0 ? 1 : 0
  rule      = aws_cloudwatch_event_rule.poll[0].name
  target_id = "consumer-s3-poll"
  arn       = aws_lambda_function.consumer.arn
}

resource "aws_lambda_permission" "poll" {
  count         = length(var.poll_locations) > 0 ? 1 : 0
  statement_id  = "AllowS3PollSchedule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.consumer.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.poll[0].arn
}

resource "aws_lambda_event_source_mapping" "consumer" {
  event_source_arn                   = aws_sqs_queue.notifications.arn
  function_name                      = aws_lambda_function.consumer.arn
  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = var.maximum_batching_window_in_seconds
  function_response_types            = ["ReportBatchItemFailures"]
  scaling_config {
    maximum_concurrency = var.maximum_concurrency
  }
}

# --- webhook --------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "webhook" {
  count             = var.deploy_webhook ? 1 : 0
  name              = "/aws/lambda/${var.name}-webhook"
  retention_in_days = 365
}

resource "aws_iam_role" "webhook" {
  count              = var.deploy_webhook ? 1 : 0
  name               = "${var.name}-webhook"
  assume_role_policy = templatefile("${path.module}/policies/lambda-trust.json.tftpl", {})
}

resource "aws_iam_role_policy_attachment" "webhook_vpc" {
  count      = var.deploy_webhook && length(var.subnet_ids) > 0 ? 1 : 0
  role       = aws_iam_role.webhook[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

resource "aws_iam_role_policy" "webhook_logs" {
  count  = var.deploy_webhook ? 1 : 0
  role   = aws_iam_role.webhook[0].id
  policy = templatefile("${path.module}/policies/logs.json.tftpl", { log_group_arn = aws_cloudwatch_log_group.webhook[0].arn })
}

resource "aws_iam_role_policy" "webhook_token" {
  count  = var.deploy_webhook && var.webhook_token_secret_arn != "" ? 1 : 0
  role   = aws_iam_role.webhook[0].id
  policy = templatefile("${path.module}/policies/secret.json.tftpl", { secret_arn = var.webhook_token_secret_arn })
}

resource "aws_iam_role_policy" "webhook_waf" {
  count  = var.deploy_webhook && var.waf_ip_set_arn != "" ? 1 : 0
  role   = aws_iam_role.webhook[0].id
  policy = templatefile("${path.module}/policies/waf.json.tftpl", { ip_set_arn = var.waf_ip_set_arn })
}

resource "aws_iam_role_policy" "webhook_waf_ipv6" {
  count  = var.deploy_webhook && var.waf_ipv6_set_arn != "" ? 1 : 0
  role   = aws_iam_role.webhook[0].id
  policy = templatefile("${path.module}/policies/waf.json.tftpl", { ip_set_arn = var.waf_ipv6_set_arn })
}

resource "aws_iam_role_policy" "webhook_iam" {
  count = var.deploy_webhook && var.iam_response_user_path != "" ? 1 : 0
  role  = aws_iam_role.webhook[0].id
  policy = templatefile("${path.module}/policies/iam-response.json.tftpl", {
    partition  = local.partition
    account_id = local.account_id
    user_path  = var.iam_response_user_path
  })
}

resource "aws_iam_role_policy" "webhook_ec2" {
  count = var.deploy_webhook && var.ec2_response_enabled ? 1 : 0
  role  = aws_iam_role.webhook[0].id
  policy = templatefile("${path.module}/policies/ec2-response.json.tftpl", {
    partition  = local.partition
    region     = local.region
    account_id = local.account_id
  })
}

# Idempotency keys, the prior state undo needs and WAF block expiry, shared by every webhook container and
# by a person's `respond undo`. Not force_destroy: deleting it would lose what reverts live responses.
resource "aws_s3_bucket" "response_state" {
  count         = local.create_state_bucket ? 1 : 0
  bucket_prefix = "${var.name}-state-"
}

resource "aws_s3_bucket_versioning" "response_state" {
  count  = local.create_state_bucket ? 1 : 0
  bucket = aws_s3_bucket.response_state[0].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "response_state" {
  count  = local.create_state_bucket ? 1 : 0
  bucket = aws_s3_bucket.response_state[0].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

# The sweep deletes finished records (response_state_retention_days); in this versioned bucket a delete
# leaves the record as a noncurrent version, kept 30 days more for recovery, then expired with its delete
# marker. Live records are never overwritten, so never noncurrent: no rule touches them.
resource "aws_s3_bucket_lifecycle_configuration" "response_state" {
  count  = local.create_state_bucket ? 1 : 0
  bucket = aws_s3_bucket.response_state[0].id
  rule {
    id     = "expire-deleted-response-records"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    expiration {
      expired_object_delete_marker = true
    }
  }
  depends_on = [aws_s3_bucket_versioning.response_state]
}

resource "aws_s3_bucket_public_access_block" "response_state" {
  count                   = local.create_state_bucket ? 1 : 0
  bucket                  = aws_s3_bucket.response_state[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "response_state" {
  count  = local.create_state_bucket ? 1 : 0
  bucket = aws_s3_bucket.response_state[0].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_iam_role_policy" "webhook_state" {
  count = var.deploy_webhook ? 1 : 0
  role  = aws_iam_role.webhook[0].id
  policy = templatefile("${path.module}/policies/response-state.json.tftpl", {
    partition = local.partition
    bucket    = local.state_bucket
    prefix    = var.response_state_prefix
  })
}

resource "aws_lambda_function" "webhook" {
  count                          = var.deploy_webhook ? 1 : 0
  function_name                  = "${var.name}-webhook"
  description                    = "aws-siem-connector SIEM alert receiver"
  runtime                        = "nodejs22.x"
  handler                        = "dist/webhook/lambda.handler"
  s3_bucket                      = var.code_s3_bucket
  s3_key                         = var.code_s3_key
  role                           = aws_iam_role.webhook[0].arn
  timeout                        = 30
  memory_size                    = 512
  architectures                  = ["arm64"]
  reserved_concurrent_executions = 5
  dynamic "vpc_config" {
    for_each = length(var.subnet_ids) > 0 ? [1] : []
    content {
      subnet_ids         = var.subnet_ids
      security_group_ids = var.security_group_ids
    }
  }
  environment {
    variables = {
      NODE_OPTIONS                 = "--enable-source-maps"
      ASC_LOG_LEVEL                = var.log_level
      ASC_WEBHOOK_TOKEN_SECRET_ARN = var.webhook_token_secret_arn
      # Every response setting comes from here: the function needs no config file.
      ASC_RESPOND_DRY_RUN          = tostring(var.response_dry_run)
      ASC_RESPOND_WAF_BLOCK_IP     = tostring(var.waf_ip_set_arn != "" || var.waf_ipv6_set_arn != "")
      ASC_RESPOND_IAM_DISABLE_USER = tostring(var.iam_response_user_path != "")
      ASC_RESPOND_EC2_ISOLATE      = tostring(var.ec2_response_enabled)
      ASC_RESPOND_IAM_PATHS        = var.iam_response_user_path # principals elsewhere are refused
      ASC_WAF_IP_SET_ARN           = var.waf_ip_set_arn
      ASC_WAF_IPV6_SET_ARN         = var.waf_ipv6_set_arn
      # Audit lines as JSON on stdout: CloudWatch Logs keeps them and the metric filters count them.
      ASC_RESPOND_AUDIT_LOG            = "-"
      ASC_RESPOND_STATE_S3             = "s3://${local.state_bucket}/${var.response_state_prefix}"
      ASC_RESPOND_STATE_RETENTION_DAYS = tostring(var.response_state_retention_days)
      HTTPS_PROXY                      = var.https_proxy # empty: no proxy
      NO_PROXY                         = var.no_proxy
    }
  }
  depends_on = [aws_cloudwatch_log_group.webhook]
}

# Public by design: every request must carry the webhook token, checked by the function.
resource "aws_lambda_function_url" "webhook" {
  count              = var.deploy_webhook ? 1 : 0
  function_name      = aws_lambda_function.webhook[0].function_name
  authorization_type = "NONE"
}

# The same function removes expired WAF blocks on a schedule; the handler accepts only the exact
# EventBridge Scheduled Event shape, which no function URL request can produce.
resource "aws_cloudwatch_event_rule" "sweep" {
  count               = var.deploy_webhook ? 1 : 0
  name                = "${var.name}-ttl-sweep"
  description         = "aws-siem-connector TTL sweep of expired WAF blocks"
  schedule_expression = var.sweep_schedule
}

resource "aws_cloudwatch_event_target" "sweep" {
  count     = var.deploy_webhook ? 1 : 0
  rule      = aws_cloudwatch_event_rule.sweep[0].name
  target_id = "webhook-ttl-sweep"
  arn       = aws_lambda_function.webhook[0].arn
}

resource "aws_lambda_permission" "sweep" {
  count         = var.deploy_webhook ? 1 : 0
  statement_id  = "AllowTtlSweepSchedule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.webhook[0].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.sweep[0].arn
}

# Audit lines (stdout) carry requester.source at the top level; log lines (stderr) do not.
resource "aws_cloudwatch_log_metric_filter" "webhook" {
  for_each = var.deploy_webhook ? {
    AlertsReceived         = "{ $.event.kind = \"alert\" }"
    ResponseActions        = "{ ($.requester.source = \"*\") && ($.event != \"applying\") && ($.event != \"undoing\") }"
    ResponseActionFailures = "{ ($.requester.source = \"*\") && ($.event = \"failed\") }"
  } : {}
  name           = "${var.name}-${each.key}"
  log_group_name = aws_cloudwatch_log_group.webhook[0].name
  pattern        = each.value
  metric_transformation {
    namespace     = "AwsSiemConnector"
    name          = each.key
    value         = "1"
    default_value = "0"
  }
}

# --- alarms and dashboard -------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  alarm_name          = "${var.name}-dead-letters"
  alarm_description   = "Notifications reached the dead-letter queue."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dead_letter.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "oldest_message" {
  alarm_name          = "${var.name}-oldest-message"
  alarm_description   = "The consumer is falling behind."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.notifications.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 2
  threshold           = var.oldest_message_alarm_seconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "consumer_errors" {
  alarm_name          = "${var.name}-consumer-errors"
  alarm_description   = "The consumer Lambda failed invocations."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.consumer.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "response_failures" {
  count               = var.deploy_webhook ? 1 : 0
  alarm_name          = "${var.name}-response-action-failures"
  alarm_description   = "A response action failed."
  namespace           = "AwsSiemConnector"
  metric_name         = "ResponseActionFailures"
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
}

resource "aws_cloudwatch_dashboard" "connector" {
  dashboard_name = "${var.name}-aws-siem-connector"
  dashboard_body = jsonencode({
    widgets = [
      { type = "metric", x = 0, y = 0, width = 12, height = 6, properties = {
        title = "Notification queue", region = local.region, stat = "Maximum", period = 60
        metrics = [
          ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.notifications.name],
          [".", "ApproximateAgeOfOldestMessage", ".", ".", { yAxis = "right" }],
          [".", "NumberOfMessagesDeleted", ".", ".", { stat = "Sum" }],
        ]
      } },
      { type = "metric", x = 12, y = 0, width = 12, height = 6, properties = {
        title   = "Dead letters", region = local.region, stat = "Maximum", period = 60
        metrics = [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.dead_letter.name]]
      } },
      { type = "metric", x = 0, y = 6, width = 12, height = 6, properties = {
        title = "Consumer Lambda", region = local.region, stat = "Sum", period = 60
        metrics = [
          ["AWS/Lambda", "Invocations", "FunctionName", aws_lambda_function.consumer.function_name],
          [".", "Errors", ".", "."], [".", "Throttles", ".", "."],
          [".", "ConcurrentExecutions", ".", ".", { stat = "Maximum" }],
        ]
      } },
      { type = "metric", x = 0, y = 12, width = 24, height = 6, properties = {
        title   = "Alerts received and response actions taken", region = local.region, stat = "Sum", period = 300
        metrics = [["AwsSiemConnector", "AlertsReceived"], [".", "ResponseActions"], [".", "ResponseActionFailures"]]
      } },
    ]
  })
}

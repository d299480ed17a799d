output "notification_queue_url" {
  value = aws_sqs_queue.notifications.id
}
output "notification_queue_arn" {
  value = aws_sqs_queue.notifications.arn
}
output "dead_letter_queue_url" {
  value = aws_sqs_queue.dead_letter.id
}
output "dead_letter_bucket" {
  value = aws_s3_bucket.dead_letters.id
}
output "consumer_function_name" {
  value = aws_lambda_function.consumer.function_name
}
output "webhook_url" {
  value = var.deploy_webhook ? aws_lambda_function_url.webhook[0].function_url : null
}
output "response_state_location" {
  description = "The action store; run `respond undo|sweep` with ASC_RESPOND_STATE_S3 set to this to share it."
  value       = var.deploy_webhook ? "s3://${local.state_bucket}/${var.response_state_prefix}" : null
}
output "notification_configuration" {
  description = "The S3 notification, for merging into a bucket whose notifications another stack manages."
  value       = jsonencode(local.notification)
}

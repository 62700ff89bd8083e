################################################################################
# Naming and worker configuration
################################################################################

locals {
  name = "${var.name_prefix}-worker-${var.pool_name}"

  # The job queue name is the last field of its ARN (arn:aws:sqs:<region>:<account>:<name>).
  job_queue_name = element(split(":", var.job_queue_arn), 5)

  # What every worker process reads at start (see worker/ and images/packer/).
  worker_environment = merge(var.environment, {
    JOB_QUEUE_URL       = var.job_queue_url
    WORKER_POOL         = var.pool_name
    WORKER_APPLICATIONS = join(",", var.applications)
  })

  # Linux: an EnvironmentFile for the foqus-worker systemd unit baked into the AMI.
  linux_user_data = <<-EOT
    #!/bin/bash
    set -euo pipefail
    install -d -m 0755 /etc/foqus
    cat > /etc/foqus/worker.env <<'ENV'
    ${join("\n", [for key, value in local.worker_environment : "${key}=${jsonencode(value)}"])}
    ENV
    chmod 0644 /etc/foqus/worker.env
    systemctl enable foqus-worker.service
    systemctl restart foqus-worker.service
  EOT

  # Windows: machine environment variables for the FoqusWorker service baked into the AMI.
  # Single-quoted PowerShell strings do not expand "$"; a quote is escaped by doubling it.
  windows_user_data = <<-EOT
    <powershell>
    $ErrorActionPreference = 'Stop'
    ${join("\n", [for key, value in local.worker_environment : "[Environment]::SetEnvironmentVariable('${key}', '${replace(value, "'", "''")}', 'Machine')"])}
    Set-Service -Name FoqusWorker -StartupType Automatic
    Restart-Service -Name FoqusWorker
    </powershell>
  EOT
}

################################################################################
# Network
#
# Workers accept no connections (Session Manager replaces SSH) and call the AWS APIs over
# HTTPS. Egress stays open because engines may reach licence servers (AspenTech SLM, ...) on
# ports of their own.
################################################################################

resource "aws_security_group" "this" {
  name        = local.name
  description = "FOQUS workers of pool ${var.pool_name}: no ingress."
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.this.id
  description       = "AWS APIs over HTTPS and licence servers."
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}

################################################################################
# Launch template
################################################################################

resource "aws_launch_template" "this" {
  name                   = local.name
  description            = "FOQUS workers of pool ${var.pool_name} (${var.os}): ${join(", ", var.applications)}."
  image_id               = var.ami_id
  instance_type          = var.instance_type
  update_default_version = true
  vpc_security_group_ids = [aws_security_group.this.id]
  user_data              = base64encode(var.os == "windows" ? local.windows_user_data : local.linux_user_data)

  iam_instance_profile {
    arn = aws_iam_instance_profile.this.arn
  }

  # IMDSv2 only; tags readable from the metadata service so a worker can find its pool.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "enabled"
  }

  tag_specifications {
    resource_type = "instance"

    tags = {
      Name          = local.name
      "foqus:pool"  = var.pool_name
      "foqus:queue" = local.job_queue_name
    }
  }
}

################################################################################
# Auto Scaling group
################################################################################

resource "aws_autoscaling_group" "this" {
  name                = local.name
  min_size            = var.min_size
  max_size            = var.max_size
  desired_capacity    = var.min_size
  vpc_zone_identifier = var.subnet_ids
  health_check_type   = "EC2"

  # GroupInServiceInstances feeds the backlog-per-instance metric below.
  metrics_granularity = "1Minute"
  enabled_metrics     = ["GroupInServiceInstances", "GroupDesiredCapacity", "GroupPendingInstances", "GroupTerminatingInstances"]

  launch_template {
    id      = aws_launch_template.this.id
    version = "$Latest"
  }

  tag {
    key                 = "Name"
    value               = local.name
    propagate_at_launch = true
  }

  tag {
    key                 = "foqus:pool"
    value               = var.pool_name
    propagate_at_launch = true
  }

  lifecycle {
    # The scaling policy owns the desired capacity once the group exists.
    ignore_changes = [desired_capacity]
  }
}

################################################################################
# Scaling on backlog per instance
#
# (visible + in-flight job messages) ÷ in-service instances, held at the target. With no
# instance in service the expression falls back to the whole backlog instead of dividing by
# zero (no data), so the metric stays defined for a pool at min_size 0.
################################################################################

resource "aws_autoscaling_policy" "backlog" {
  # Emulator gate: moto 5.2.1 creates this policy but describes it back without `Enabled` and
  # with an empty predictive-scaling block, so every later plan wants to update it (and moto
  # never evaluates scaling policies anyway). Remove the gate when moto round-trips it.
  count = var.scaling_policy_enabled ? 1 : 0

  name                      = "${local.name}-backlog-per-instance"
  autoscaling_group_name    = aws_autoscaling_group.this.name
  policy_type               = "TargetTrackingScaling"
  estimated_instance_warmup = var.instance_warmup_seconds

  target_tracking_configuration {
    target_value = var.backlog_per_instance_target

    customized_metric_specification {
      metrics {
        id          = "visible"
        label       = "Job messages waiting"
        return_data = false

        metric_stat {
          stat = "Sum"

          metric {
            namespace   = "AWS/SQS"
            metric_name = "ApproximateNumberOfMessagesVisible"

            dimensions {
              name  = "QueueName"
              value = local.job_queue_name
            }
          }
        }
      }

      metrics {
        id          = "in_flight"
        label       = "Job messages being run"
        return_data = false

        metric_stat {
          stat = "Sum"

          metric {
            namespace   = "AWS/SQS"
            metric_name = "ApproximateNumberOfMessagesNotVisible"

            dimensions {
              name  = "QueueName"
              value = local.job_queue_name
            }
          }
        }
      }

      metrics {
        id          = "in_service"
        label       = "In-service worker instances"
        return_data = false

        metric_stat {
          stat = "Average"

          metric {
            namespace   = "AWS/AutoScaling"
            metric_name = "GroupInServiceInstances"

            dimensions {
              name  = "AutoScalingGroupName"
              value = aws_autoscaling_group.this.name
            }
          }
        }
      }

      metrics {
        id          = "backlog_per_instance"
        label       = "Job messages per in-service instance"
        expression  = "IF(in_service > 0, (visible + in_flight) / in_service, visible + in_flight)"
        return_data = true
      }
    }
  }
}

################################################################################
# Naming and worker configuration
################################################################################

locals {
  name                = "${var.name_prefix}-worker-${var.pool_name}"
  lifecycle_hook_name = "${local.name}-drain"

  # The job queue name is the last field of its ARN (arn:aws:sqs:<region>:<account>:<name>).
  job_queue_name = element(split(":", var.job_queue_arn), 5)

  # What every worker process reads at start (see worker/ and images/packer/).
  worker_environment = merge(var.environment, {
    JOB_QUEUE_URL       = var.job_queue_url
    WORKER_POOL         = var.pool_name
    WORKER_APPLICATIONS = join(",", var.applications)
    # Scale-in protection and the termination hook (see the Auto Scaling group below).
    AUTOSCALING_GROUP_NAME = local.name
    LIFECYCLE_HOOK_NAME    = local.lifecycle_hook_name
    # One X-Ray segment per job run (worker/xray-segments.ts), to the CloudWatch agent's listener.
    AWS_XRAY_DAEMON_ADDRESS = local.xray_daemon_address
  })

  # The CloudWatch agent baked into both images (images/packer/): it tails the worker's log file
  # (the systemd unit's StandardOutput, the Windows service's worker.log) into this pool's log
  # group, one stream per instance, and listens for the worker's X-Ray segments. The config
  # names the pool's group, so the user data writes it at boot and starts the agent with it.
  xray_daemon_address = "127.0.0.1:2000"
  worker_log_file     = var.os == "windows" ? "C:\\ProgramData\\foqus\\logs\\worker.log" : "/var/log/foqus/worker.log"
  cloudwatch_agent_config = jsonencode({
    logs = {
      logs_collected = {
        files = {
          collect_list = [
            {
              file_path       = local.worker_log_file
              log_group_name  = aws_cloudwatch_log_group.worker.name
              log_stream_name = "{instance_id}"
            },
          ]
        }
      }
    }
    # UDP segments, and the TCP proxy X-Ray SDKs use for sampling rules, both on the loopback.
    traces = {
      traces_collected = {
        xray = {
          bind_address = local.xray_daemon_address
          tcp_proxy    = { bind_address = local.xray_daemon_address }
        }
      }
    }
  })
  linux_agent_config   = "/etc/foqus/cloudwatch-agent.json"
  windows_agent_config = "C:\\ProgramData\\Amazon\\AmazonCloudWatchAgent\\foqus-worker.json"

  # Linux: an EnvironmentFile for the foqus-worker systemd unit baked into the AMI.
  linux_user_data = <<-EOT
    #!/bin/bash
    set -euo pipefail
    install -d -m 0755 /etc/foqus
    cat > /etc/foqus/worker.env <<'ENV'
    ${join("\n", [for key, value in local.worker_environment : "${key}=${jsonencode(value)}"])}
    ENV
    chmod 0644 /etc/foqus/worker.env
    cat > ${local.linux_agent_config} <<'JSON'
    ${local.cloudwatch_agent_config}
    JSON
    chmod 0644 ${local.linux_agent_config}
    # A worker without its log shipped still runs jobs: a failed agent start only warns.
    /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -c file:${local.linux_agent_config} -s ||
      echo "foqus: the CloudWatch agent did not start; the worker's log stays in /var/log/foqus/worker.log" >&2
    systemctl enable foqus-worker.service
    systemctl restart foqus-worker.service
  EOT

  # Windows: machine environment variables for the FoqusWorker service baked into the AMI.
  # Single-quoted PowerShell strings do not expand "$"; a quote is escaped by doubling it.
  windows_user_data = <<-EOT
    <powershell>
    $ErrorActionPreference = 'Stop'
    ${join("\n", [for key, value in local.worker_environment : "[Environment]::SetEnvironmentVariable('${key}', '${replace(value, "'", "''")}', 'Machine')"])}
    # The agent's config, as UTF-8 without a byte-order mark; a single-quoted here-string expands nothing.
    $agentConfig = '${local.windows_agent_config}'
    $agentConfigJson = @'
    ${local.cloudwatch_agent_config}
    '@
    New-Item -ItemType Directory -Force -Path (Split-Path -Parent $agentConfig) | Out-Null
    [System.IO.File]::WriteAllText($agentConfig, $agentConfigJson, (New-Object System.Text.UTF8Encoding($false)))
    # A worker without its log shipped still runs jobs: a failed agent start only warns.
    try {
      $global:LASTEXITCODE = 0
      & 'C:\Program Files\Amazon\AmazonCloudWatchAgent\amazon-cloudwatch-agent-ctl.ps1' -a fetch-config -m ec2 -c "file:$agentConfig" -s
      if ($global:LASTEXITCODE -ne 0) { throw "amazon-cloudwatch-agent-ctl exited with $global:LASTEXITCODE" }
    } catch {
      Write-Warning "foqus: the CloudWatch agent did not start ($_); the worker's log stays in C:\ProgramData\foqus\logs\worker.log"
    }
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
# Worker log
#
# The CloudWatch agent on every instance ships the worker's log here, one stream per instance id
# (cloudwatch_agent_config above). The role may write this group's streams only, and may not
# create groups, so the group exists before any instance does.
################################################################################

resource "aws_cloudwatch_log_group" "worker" {
  name              = "/foqus/${var.name_prefix}/worker/${var.pool_name}"
  retention_in_days = var.log_retention_days
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
#
# A new launch template version (a new AMI, user data, instance type) starts an instance refresh.
# It waits for protected instances: a worker holding jobs keeps scale-in protection on (it sets it
# itself), so a refresh replaces only idle workers, as scale-in does. Every termination then
# goes through the lifecycle hook below, which gives the worker time to finish or release.
################################################################################

locals {
  launch_template_version = aws_launch_template.this.latest_version
  spot_instance_types     = distinct(concat([var.instance_type], var.spot_instance_types))

  # Backlog per instance that scaling keeps: how many waiting jobs an instance clears within
  # the acceptable latency.
  backlog_per_instance_target = var.acceptable_latency_seconds / var.seconds_per_job
}

resource "aws_autoscaling_group" "this" {
  name                = local.name
  min_size            = var.min_size
  max_size            = var.max_size
  desired_capacity    = var.min_size
  vpc_zone_identifier = var.subnet_ids
  health_check_type   = "EC2"
  # Spot: launch a replacement when an instance is at elevated risk, before it is interrupted.
  capacity_rebalance = var.spot

  # GroupInServiceInstances and GroupDesiredCapacity feed the scaling metrics below.
  metrics_granularity = "1Minute"
  enabled_metrics     = ["GroupInServiceInstances", "GroupDesiredCapacity", "GroupPendingInstances", "GroupTerminatingInstances"]

  dynamic "launch_template" {
    for_each = var.spot ? [] : [1]

    content {
      id      = aws_launch_template.this.id
      version = local.launch_template_version
    }
  }

  dynamic "mixed_instances_policy" {
    for_each = var.spot ? [1] : []

    content {
      instances_distribution {
        on_demand_base_capacity                  = 0
        on_demand_percentage_above_base_capacity = 0
        spot_allocation_strategy                 = "price-capacity-optimized"
      }

      launch_template {
        launch_template_specification {
          launch_template_id = aws_launch_template.this.id
          version            = local.launch_template_version
        }

        dynamic "override" {
          for_each = local.spot_instance_types

          content {
            instance_type = override.value
          }
        }
      }
    }
  }

  instance_refresh {
    strategy = "Rolling"

    preferences {
      min_healthy_percentage       = var.instance_refresh_min_healthy_percentage
      scale_in_protected_instances = "Wait"
      standby_instances            = "Wait"
      skip_matching                = true
    }
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

# Terminating instances wait in Terminating:Wait until the worker answers
# CompleteLifecycleAction (its jobs finished or released) or the heartbeat timeout passes; the
# worker learns of it from the instance metadata (autoscaling/target-lifecycle-state).
resource "aws_autoscaling_lifecycle_hook" "drain" {
  name                   = local.lifecycle_hook_name
  autoscaling_group_name = aws_autoscaling_group.this.name
  lifecycle_transition   = "autoscaling:EC2_INSTANCE_TERMINATING"
  heartbeat_timeout      = var.termination_heartbeat_seconds
  default_result         = "CONTINUE"

  lifecycle {
    # moto 5.2.1 reads a hook back with a made-up notification target and role; this module
    # sets neither, so nothing is lost by ignoring them.
    ignore_changes = [notification_target_arn, role_arn]
  }
}

################################################################################
# Scaling on backlog per instance
#
# Waiting job messages ÷ in-service instances, held at acceptable_latency_seconds ÷
# seconds_per_job (AWS's method for SQS workers). Messages in flight are not backlog: they are
# the jobs being run, and a busy worker is protected from scale-in by the worker itself.
#
# From zero: target tracking multiplies the current capacity, which is 0, so it cannot start the
# first instance. A step policy does: jobs waiting while the desired capacity is 0 set it to 1,
# and target tracking takes over from there.
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
    target_value = local.backlog_per_instance_target

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
        label       = "Job messages waiting per in-service instance"
        expression  = "IF(in_service > 0, visible / in_service, visible)"
        return_data = true
      }
    }
  }
}

resource "aws_autoscaling_policy" "start_from_zero" {
  # Emulator gate: as the backlog policy (moto reads step policies back the same way).
  count = var.scaling_policy_enabled ? 1 : 0

  name                    = "${local.name}-start-from-zero"
  autoscaling_group_name  = aws_autoscaling_group.this.name
  policy_type             = "StepScaling"
  adjustment_type         = "ExactCapacity"
  metric_aggregation_type = "Maximum"

  step_adjustment {
    metric_interval_lower_bound = 0
    scaling_adjustment          = 1
  }
}

resource "aws_cloudwatch_metric_alarm" "jobs_waiting_without_workers" {
  count = var.scaling_policy_enabled ? 1 : 0

  alarm_name          = "${local.name}-jobs-waiting-at-zero"
  alarm_description   = "Scaling, not an alert: jobs wait in ${local.job_queue_name} while pool ${var.pool_name} has a desired capacity of 0; starts its first instance."
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_autoscaling_policy.start_from_zero[0].arn]

  metric_query {
    id          = "waiting_at_zero"
    label       = "Jobs waiting with no instance wanted"
    expression  = "IF(desired == 0 AND visible > 0, 1, 0)"
    return_data = true
  }

  metric_query {
    id = "visible"

    metric {
      namespace   = "AWS/SQS"
      metric_name = "ApproximateNumberOfMessagesVisible"
      dimensions  = { QueueName = local.job_queue_name }
      stat        = "Maximum"
      period      = 60
    }
  }

  metric_query {
    id = "desired"

    metric {
      namespace   = "AWS/AutoScaling"
      metric_name = "GroupDesiredCapacity"
      dimensions  = { AutoScalingGroupName = aws_autoscaling_group.this.name }
      stat        = "Maximum"
      period      = 60
    }
  }
}

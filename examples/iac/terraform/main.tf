# The roles of the bundled CloudTrail sample (Stratus Red Team attack techniques), written as Terraform: the twin of
# ../cloudformation/stratus-roles.yaml. `npm start` proposes their least-privilege policies and writes the rewritten
# files under out/iac/. Each role uses one of the three policy-body styles.

data "aws_iam_policy_document" "ec2_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "steal_credentials" {
  name                = "stratus-red-team-ec2-steal-credentials-role"
  assume_role_policy  = data.aws_iam_policy_document.ec2_assume.json
  managed_policy_arns = ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]

  inline_policy {
    name = "stratus-red-team-ec2-steal-credentials-policy"
    policy = jsonencode({
      Version = "2012-10-17"
      Statement = [
        {
          Effect   = "Allow"
          Action   = "ec2:Describe*" # everything the instance may look at
          Resource = "*"
        },
      ]
    })
  }
}

resource "aws_iam_role" "get_password_data" {
  name               = "stratus-red-team-ec2-get-password-data-role"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
}

resource "aws_iam_policy" "get_password_data" {
  name   = "stratus-red-team-ec2-get-password-data-policy"
  policy = <<-JSON
    {
      "Version": "2012-10-17",
      "Statement": [
        { "Effect": "Allow", "Action": ["ec2:Describe*"], "Resource": "*" }
      ]
    }
  JSON
}

resource "aws_iam_role_policy_attachment" "get_password_data" {
  role       = aws_iam_role.get_password_data.name
  policy_arn = aws_iam_policy.get_password_data.arn
}

resource "aws_iam_role" "leave_organization" {
  name               = "stratus-red-team-leave-org-role"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
}

data "aws_iam_policy_document" "leave_organization" {
  statement {
    actions   = ["ec2:Describe*"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "leave_organization" {
  name   = "stratus-red-team-leave-org-policy"
  role   = aws_iam_role.leave_organization.id
  policy = data.aws_iam_policy_document.leave_organization.json
}

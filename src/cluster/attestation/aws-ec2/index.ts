// AWS EC2 instance identity document provider: public surface.
export { AWS_EC2_PROVIDER, AwsEc2Provider, DEFAULT_LAUNCH_WINDOW_MINUTES, EC2_INSTANCE_PREFIX } from './aws-ec2-provider.ts';
export type { AwsEc2Evidence, AwsEc2Policy } from './aws-ec2-provider.ts';
export { parseIdentityDocument, publicKeysFromPem } from './identity-document.ts';
export type { InstanceIdentity } from './identity-document.ts';

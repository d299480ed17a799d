import { describe, expect, it } from 'vitest';
import { RegionalClients, regionOfQueueUrl, sqsClients } from '../../../src/source/index.js';

describe('regionOfQueueUrl', () => {
  it.each([
    ['https://sqs.eu-west-1.amazonaws.com/123456789012/trail', 'eu-west-1'],
    ['https://sqs.us-gov-west-1.amazonaws.com/123456789012/trail', 'us-gov-west-1'],
    ['https://sqs-fips.us-east-2.amazonaws.com/123456789012/trail', 'us-east-2'],
    ['https://sqs.cn-north-1.amazonaws.com.cn/123456789012/trail', 'cn-north-1'],
    [
      'https://vpce-0a1b2c3d-4e5f6a7b.sqs.ap-southeast-2.vpce.amazonaws.com/123456789012/trail',
      'ap-southeast-2',
    ],
    ['https://eu-central-1.queue.amazonaws.com/123456789012/trail', 'eu-central-1'],
    ['https://sqs.sa-east-1.api.aws/123456789012/trail', 'sa-east-1'],
  ])('%s names %s', (url, region) => {
    expect(regionOfQueueUrl(url)).toBe(region);
  });

  it.each([
    'http://127.0.0.1:4566/123456789012/trail',
    'https://queue.amazonaws.com/123456789012/trail',
    'https://sqs.example.com/123456789012/trail',
    'not a url',
  ])('%s names none', (url) => {
    expect(regionOfQueueUrl(url)).toBeUndefined();
  });
});

describe('RegionalClients', () => {
  it('makes one client per region on first use, the default region for none, and destroys them all', () => {
    const made: string[] = [];
    const destroyed: string[] = [];
    const clients = new RegionalClients('us-east-1', (region) => {
      made.push(region);
      return { region, destroy: () => destroyed.push(region) };
    });
    expect(clients.get().region).toBe('us-east-1');
    expect(clients.get('eu-west-1').region).toBe('eu-west-1');
    expect(clients.get(undefined)).toBe(clients.get('us-east-1'));
    expect(clients.get('eu-west-1')).toBe(clients.get('eu-west-1'));
    expect(made).toEqual(['us-east-1', 'eu-west-1']);
    clients.destroy();
    expect(destroyed.sort()).toEqual(['eu-west-1', 'us-east-1']);
  });
});

describe('sqsClients', () => {
  it("signs each queue's requests for the region its URL names, else for aws.region", async () => {
    const sqs = sqsClients({ region: 'us-east-1', forcePathStyle: false });
    try {
      const eu = sqs.forQueue('https://sqs.eu-west-1.amazonaws.com/1/a');
      expect(await eu.config.region()).toBe('eu-west-1');
      expect(sqs.forQueue('https://sqs.eu-west-1.amazonaws.com/1/b')).toBe(eu);
      expect(await sqs.forQueue('http://127.0.0.1:4566/1/a').config.region()).toBe('us-east-1');
    } finally {
      sqs.destroy();
    }
  });
});

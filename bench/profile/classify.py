#!/usr/bin/env python3
"""Splits perf samples into cost categories, exclusively (each sample counted once, crypto first).

usage: perf script -i perf.data > perf.txt; bench/profile/classify.py perf.txt [µs of CPU per request]
With the CPU per request (from fulcio-loadgen), each share is also printed in µs per request.
"""
import sys,re,collections
stacks=[];cur=[]
for line in open(sys.argv[1]):
    if not line.strip():
        if cur: stacks.append(cur); cur=[]
        continue
    if line[0] not in ' \t':
        if cur: stacks.append(cur); cur=[]
        cur=[line.strip()]; continue
    cur.append(line.strip())
if cur: stacks.append(cur)
def fn(l):
    l=l.split(' ',1)[1] if ' ' in l else l
    return re.sub(r'\+0x[0-9a-f]+ \(.*\)$','',l).strip()
per_cert=float(sys.argv[2]) if len(sys.argv)>2 else None
crypto_leaf=re.compile(r'aws_lc|ecp_nistz256|nistz|bn_|beeu|sha256_block|rsaz|ecdsa|EVP_|RSA_|mulx|sqrx|p256|p384|ec_GFp|fiat')
def classify(fr):
    j='\n'.join(fr)
    leaf=fr[0] if fr else ''
    if crypto_leaf.search(leaf) or any(crypto_leaf.search(f) for f in fr[:3]):
        if 'pop::verify' in j: return 'crypto: PoP verify (P-256)'
        if 'verify_signature' in j or 'submission::signature' in j: return 'crypto: chain signature verify (P-256)'
        if 'sign_sync' in j or 'ca::signer' in j: return 'crypto: CA signatures (P-256 x2)'
        if 'oidc::' in j: return 'crypto: token verify (RS256)'
        if 'sign_sct' in j or 'sequencer' in j or 'batch::' in j: return 'crypto: SCT signature, tree hashing'
        if 'sign_checkpoint' in j: return 'crypto: SCT signature, tree hashing'
        return 'crypto: other (digests, key parsing)'
    if re.search(r'tcp_|sock_|__sys_recv|__sys_send|ip_|net_rx|do_softirq|napi|__dev_queue|loopback',j): return 'network: kernel TCP (loopback)'
    if 'fsync' in j or 'fdatasync' in j or 'ext4' in j or 'blk_' in j or 'vfs_write' in j or 'do_renameat' in j or 'vfs_read' in j: return 'storage: kernel file I/O and fsync'
    if 'redb::' in j: return 'storage: redb (user space)'
    if any(k in leaf for k in ('mi_','_mi_','mi_malloc','mi_free')) or 'mimalloc' in leaf: return 'allocator (mimalloc)'
    if 'memcpy' in leaf or 'memmove' in leaf or 'memset' in leaf: return 'memcpy/memset'
    if re.search(r'finish_task_switch|__schedule|futex|epoll|try_to_wake_up|irqentry_exit|exit_to_user_mode', j) and not 'hyper' in leaf: return 'scheduling: wake-ups, context switches, epoll'
    if 'hyper::' in j and ('hyper' in leaf or 'httparse' in j or 'http::' in leaf): return 'HTTP: hyper, httparse, headers'
    if re.search(r'der::|x509|ct_core::certificate|submission::certificate|spki|TbsCertificate|ca::certificate', j) and re.search(r'der::|x509|Decode|Encode|asn1|ObjectIdentifier|const_oid', leaf+'\n'+'\n'.join(fr[:4])): return 'X.509/DER encode and parse'
    if re.search(r'serde|pbjson|base64|pem::|protojson|json', leaf+'\n'+'\n'.join(fr[:4])): return 'JSON, base64, PEM'
    if re.search(r'ct_log::|ct_core::', j): return 'CT log: other (tree, tiles, pool)'
    if re.search(r'tokio::', '\n'.join(fr[:3])): return 'tokio runtime'
    if 'hyper' in j or 'axum' in j or 'tower' in j: return 'HTTP: axum/tower/hyper other'
    if '[k]' in fr[0] or fr[0].startswith(('__','do_','entry_')): return 'kernel: other'
    return 'other'
c=collections.Counter()
for s in stacks:
    fr=[fn(l) for l in s[1:]]
    c[classify(fr)]+=1
tot=sum(c.values())
crypto=sum(v for k,v in c.items() if k.startswith('crypto'))
for k,v in sorted(c.items(), key=lambda kv:-kv[1]):
    extra=f"  {per_cert*v/tot:6.1f} µs/cert" if per_cert else ''
    print(f"{100*v/tot:6.2f}%{extra}  {k}")
print(f"crypto total {100*crypto/tot:.1f}%" + (f" = {per_cert*crypto/tot:.0f} µs/cert" if per_cert else ''))

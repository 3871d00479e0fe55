#!/usr/bin/env python3
# Regenerates the desired.yaml/observed.rec of the target-* golden cases
# (run from the repository root); then UPDATE_GOLDEN=1 tests/golden/plans.sh
# rewrites expected.plan, which must be reviewed before committing.
import os, json, hashlib
P='tests/plans'
OWN=0x626f6c6c617264
F='/var/lib/bollard/volumes/demo.img'
shared=open(f'{P}/_shared/target-local.yaml').read()
def target(luns=[(0,'demo')], acls=['initiator: "*"'], extra=''):
    s='''apiVersion: bollard.io/v1alpha1
kind: Target
metadata:
  name: demo
spec:
  cluster: local
  iqn: iqn.2026-11.io.bollard:demo
'''
    s+= '  luns:\n' + ''.join(f'    - lun: {l}\n      volume: {v}\n' for l,v in luns) if luns else '  luns: []\n'
    s+= '  acls:\n' + ''.join(f'    - {a}\n' for a in acls) if acls else '  acls: []\n'
    return s+extra
# The engine's digest of a CHAP secret (kernel/core/chap_digest.h), with a
# fixed salt so the recordings are stable: a Python cross-check of the C.
def digest(secret, salt=bytes(range(16))):
    return 'pbkdf2-sha256:1000:'+salt.hex()+':'+hashlib.pbkdf2_hmac('sha256', secret.encode(), salt, 1000, 16).hex()
IQN='iqn.2026-11.io.bollard:demo'
ESX='iqn.1998-01.com.vmware:esx01'
def obs_target(owner=True, path=F, luns=None, enabled=True, acls=None, portals=None, auth=None, features=0x1f):
    luns = luns if luns is not None else [(0,path,'demo')]
    return {"iqn":"iqn.2026-11.io.bollard:demo","enabled":enabled,"sessions":0,
      "attributes":dict({"maxSessionsPerInitiator":2,"maxSessions":64,"nopIntervalMs":5000,"nopTimeoutMs":15000,"demoMode":False}, **({"owner":OWN} if owner else {})),
      "portals": portals if portals is not None else ["127.0.0.1:3260"],
      "luns":[{"lun":l,"path":p,"uid":u,"naa":"6"*32,"serial":"s","blocks":131072,"blockSize":512,"readonly":False,"features":features} for l,p,u in luns],
      "acls": acls if acls is not None else [{"initiator":"*","chapUser":None}],
      "auth":auth if auth is not None else {"chapUser":None,"mutualUser":None}}
def mk(name, comment, tyaml, targets, files=(F,), node='local', desired=None, pages=()):
    d=f'{P}/{name}'; os.makedirs(d, exist_ok=True)
    with open(f'{d}/desired.yaml','w') as f:
        f.write(f'# {comment}\n')
        f.write(desired if desired is not None else shared)
        if tyaml: f.write('---\n'+tyaml)
    open(f'{d}/node','w').write(node+'\n')
    with open(f'{d}/observed.rec','w') as f:
        f.write(f'# {comment}\n>>> bollard target show -o json --max-luns 1024\n')
        root={"targets":targets}
        f.write(json.dumps(root, indent=1)+'\n')
        for iqn, frm, page in pages:
            f.write(f'>>> bollard target show {iqn} -o json --from-lun {frm} --max-luns 1024\n')
            f.write(json.dumps({"targets":page}, indent=1)+'\n')
        for p in files: f.write(f'>>> file {p}\nbacking data\n')
mk('target-new-quickstart','empty engine, no backing file yet: create everything, enable last', target(), [], files=())
mk('target-new-file-exists','backing file already there: never recreated or truncated', target(), [])
mk('target-unchanged','engine matches: zero actions', target(), [obs_target()])
mk('target-add-lun','one LUN added: exactly one engine action (the file exists)', target(luns=[(0,'demo'),(1,'logs')]), [obs_target()], files=(F,'/srv/logs.img'))
mk('target-add-lun-new-file','one LUN added whose backing file is missing: file, then LUN', target(luns=[(0,'demo'),(1,'logs')]), [obs_target()])
mk('target-remove-lun','LUN removed from the spec: forced del, data kept', target(luns=[]), [obs_target()])
mk('target-acl-chap','an ESXi host with CHAP added: secret only in the hidden payload', target(acls=['initiator: "*"', 'initiator: iqn.1998-01.com.vmware:esx01\n      chapSecretRef: esx-chap']), [obs_target()])
mk('target-acl-chap-user-changed','ACL CHAP user changed: delete + add', target(acls=['initiator: iqn.1998-01.com.vmware:esx01\n      chapSecretRef: esx-chap']), [obs_target(acls=[{"initiator":"iqn.1998-01.com.vmware:esx01","chapUser":"old-user"}])])
mk('target-acl-removed','ACL removed', target(acls=[]), [obs_target()])
mk('target-auth-mutual','target-wide CHAP and mutual CHAP set in one call', target(extra='  auth:\n    chapSecretRef: esx-chap\n    mutualChapSecretRef: target-chap\n'), [obs_target()])
mk('target-sessions-changed','maxPerInitiator changed: one attribute set', target(extra='  sessions:\n    maxPerInitiator: 4\n'), [obs_target()])
mk('target-service-ip','service addresses and port: portals follow, IPv6 bracketed', target(extra='  serviceAddresses: [192.0.2.50/24, "2001:db8::50/64"]\n  port: 3261\n'), [obs_target()])
mk('target-not-owned','same IQN made by hand: NotOwned, no actions', target(), [obs_target(owner=False)])
mk('target-deleted','owned target no longer desired: disable, then delete', '', [obs_target()])
mk('target-deleted-disabled','owned, already disabled: delete only', '', [obs_target(enabled=False)])
mk('target-foreign-untouched','a target bollard did not create is never pruned', '', [obs_target(owner=False)])
mk('target-drift','live LUN has another path: CreateOnlyDrift, not recreated', target(), [obs_target(path='/old/place.img')])
mk('target-enable-drift','owned target disabled by hand while ha is none: enabled again', target(), [obs_target(enabled=False)])
mk('target-other-node','this node is not in the cluster: its owned target is removed', target(), [obs_target()], node='nodeb')
mk('target-missing-secret','ACL names a Secret that does not exist: fail closed, nothing done', target(acls=['initiator: iqn.1998-01.com.vmware:esx01\n      chapSecretRef: nope']), [], files=())
pc=open(f'{P}/pcmk-unchanged/desired.yaml').read()
mk('target-ha-pacemaker','ha pacemaker: DRBD device path, service IP portal, never enabled here', '', [], files=(), node='nodea', desired=pc)
# Secret values: the engine never shows them, its dump carries a salted
# digest of each ("chapDigest", "mutualDigest"); plan() checks the desired
# password against it.
ESXT=target(acls=['initiator: iqn.1998-01.com.vmware:esx01\n      chapSecretRef: esx-chap'])
def esxacl(secret): return [{"initiator":ESX,"chapUser":"esx01","chapDigest":digest(secret)}]
mk('target-acl-chap-secret-changed','ACL Secret password changed, same user: delete + add', ESXT, [obs_target(acls=esxacl('an-older-secret'))])
mk('target-acl-chap-secret-unchanged','ACL secret live as in the Secret: zero actions', ESXT, [obs_target(acls=esxacl('s3cret-never-printed'))])
mk('target-acl-chap-secret-hand-changed','ACL password set by hand with bollard target (another salt too): delete + add, back to the Secret', ESXT, [obs_target(acls=[{"initiator":ESX,"chapUser":"esx01","chapDigest":digest('typed-by-hand', bytes(range(100,116)))}])])
mk('target-acl-chap-secret-unknown','engine reports no digest (it predates them): nothing known, nothing re-applied', ESXT, [obs_target(acls=[{"initiator":ESX,"chapUser":"esx01"}])])
mk('target-acl-chap-digest-unreadable','a digest in a form this reconciler does not know: counted as different, re-applied', ESXT, [obs_target(acls=[{"initiator":ESX,"chapUser":"esx01","chapDigest":"scrypt:1:00:00"}])])
AUTHT=target(extra='  auth:\n    chapSecretRef: esx-chap\n    mutualChapSecretRef: target-chap\n')
def autho(c, m): return {"chapUser":"esx01","mutualUser":"tgt","chapDigest":digest(c),"mutualDigest":digest(m)}
mk('target-auth-secret-changed','mutual CHAP password changed, same users: auth set again', AUTHT, [obs_target(auth=autho('s3cret-never-printed','an-older-secret'))])
mk('target-auth-secret-unchanged','target-wide secrets live as in the Secrets: zero actions', AUTHT, [obs_target(auth=autho('s3cret-never-printed','mutual-s3cret-never-printed'))])
mk('target-auth-secret-hand-changed','target-wide CHAP password set by hand, mutual as wanted: auth set again', AUTHT, [obs_target(auth=autho('typed-by-hand','mutual-s3cret-never-printed'))])
# The PR store (features.persistentReservations, default on) claims the
# volume's last MiB and moves the capacity: create-only.
mk('target-prstore-off-live','live LUN was made without the PR store, the Target wants it: CreateOnlyDrift, not recreated', target(), [obs_target(features=0x0f)])
mk('target-prstore-disabled','persistentReservations false: the LUN is added without prstore', target(extra='  features:\n    persistentReservations: false\n'), [], files=())
# The dump is read a page of LUNs at a time ("nextLun": more from there):
# a desired target's later pages are read (LUN 1 is live: nothing to add),
# an owned target nobody wants is deleted without reading its other pages.
def paged(t, nxt): t=dict(t); t["nextLun"]=nxt; return t
OLD=dict(obs_target(luns=[(0,'/srv/old0.img','old0')]), iqn='iqn.2026-11.io.bollard:old')
mk('target-dump-paged','dump read in pages: later pages of desired targets only', target(luns=[(0,'demo'),(1,'logs')]),
   [paged(obs_target(),1), paged(OLD,1)], files=(F,'/srv/logs.img'),
   pages=[(IQN,1,[dict(obs_target(luns=[(1,'/srv/logs.img','logs')]))])])

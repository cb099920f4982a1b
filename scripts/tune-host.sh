#!/usr/bin/env bash
# Host tuning for feedhandler: checks (and, on request, applies) the settings that decide the
# latency floor of a pinned feed thread. docs/tuning.md explains each one and why.
#
#   scripts/tune-host.sh [--check] [--json] [--cores LIST]       read-only, no root needed
#   scripts/tune-host.sh --apply --cores LIST [--hugepages N] [--dry-run]    root
#
# --check (default) prints one row per setting: value, recommended value, status
#   (ok | untuned | not_exposed). --json prints the same as one JSON object on one line with
#   stable keys (schema 1), so a benchmark can store it next to its results.
# --apply changes only what can change at run time (IRQ affinity, governor, hugepages, sysctls,
#   THP, clocksource) and prints each change. Boot parameters (isolcpus, nohz_full, rcu_nocbs,
#   irqaffinity) are never written: it prints the GRUB line to add, which needs a reboot.
#   Run-time changes are lost at reboot; it prints the sysctl.d lines that keep them.
# --cores LIST: the cores the feed threads will own (e.g. 2-3). --check uses it as the isolated
#   set to judge IRQ affinity when the kernel has none isolated yet.
# Exit status: 0 done (whatever the verdicts), 1 an --apply write failed, 2 bad arguments.
set -euo pipefail

mode=check
json=0
cores=""
hugepages=512
dry_run=0

usage() {
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
  case "$1" in
    --check) mode=check ;;
    --apply) mode=apply ;;
    --json) json=1 ;;
    --dry-run) dry_run=1 ;;
    --cores) [ $# -ge 2 ] || { echo "tune-host: --cores needs a list" >&2; exit 2; }
             cores="$2"; shift ;;
    --hugepages) [ $# -ge 2 ] || { echo "tune-host: --hugepages needs a number" >&2; exit 2; }
                 hugepages="$2"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "tune-host: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if ! [[ "$hugepages" =~ ^[0-9]+$ ]]; then
  echo "tune-host: --hugepages needs a number, got '$hugepages'" >&2; exit 2
fi
if [ -n "$cores" ] && ! [[ "$cores" =~ ^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$ ]]; then
  echo "tune-host: --cores takes a CPU list like 2-3 or 1,3,5, got '$cores'" >&2; exit 2
fi

# ---------- helpers ----------------------------------------------------------------------------
# Each helper stores its result in the variable named by its first argument (printf -v): the
# check runs in a few tens of milliseconds because nothing forks per value read.

read_file() { # var file [default]: first line of a file, or the default when missing/unreadable
  local line=""
  if [ -r "$2" ] && { IFS= read -r line <"$2" || [ -n "$line" ]; } 2>/dev/null; then
    printf -v "$1" '%s' "$line"
  else
    printf -v "$1" '%s' "${3-}"
  fi
}

expand_list() { # var "0-2,5" -> "0 1 2 5"
  local out="" part lo hi i
  local IFS=,
  for part in $2; do
    [ -z "$part" ] && continue
    if [[ "$part" == *-* ]]; then
      lo=${part%-*}; hi=${part#*-}
      for ((i = lo; i <= hi; i++)); do out+="${out:+ }$i"; done
    else
      out+="${out:+ }$part"
    fi
  done
  printf -v "$1" '%s' "$out"
}

compress_list() { # var "0 1 2 5" -> "0-2,5"
  local out="" start="" prev="" x
  for x in $2; do
    if [ -z "$start" ]; then start=$x; prev=$x; continue; fi
    if [ "$x" -eq $((prev + 1)) ]; then prev=$x; continue; fi
    out+="${out:+,}$start"; [ "$prev" != "$start" ] && out+="-$prev"
    start=$x; prev=$x
  done
  if [ -n "$start" ]; then out+="${out:+,}$start"; [ "$prev" != "$start" ] && out+="-$prev"; fi
  printf -v "$1" '%s' "$out"
}

in_set() { # needle "a b c"
  local x
  for x in $2; do [ "$x" = "$1" ] && return 0; done
  return 1
}

cmdline_param() { # var name -> value of name= on the kernel command line, "" when absent
  local w out=""
  for w in $cmdline; do
    [ "$w" = "--" ] && break # the rest is init's arguments
    case "$w" in "$2="*) out=${w#*=} ;; esac
  done
  printf -v "$1" '%s' "$out"
}

strip_flags() { # var "managed_irq,domain,2-3" -> "2-3" (flags are words, the list is digits)
  local out="" part
  local IFS=,
  for part in $2; do [[ "$part" =~ ^[0-9] ]] && out+="${out:+,}$part"; done
  printf -v "$1" '%s' "$out"
}

json_str() { # appends the JSON string literal of $1 to $out
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\t'/ }
  s=${s//$'\n'/ }
  out+="\"$s\""
}

sysctl_value() { # var dotted.name -> value, "" when the kernel lacks it
  read_file "$1" "/proc/sys/${2//.//}" ""
}

bracketed() { # var "always [madvise] never" -> "madvise"
  local v=""
  [[ "$2" =~ \[([^]]*)\] ]] && v=${BASH_REMATCH[1]}
  printf -v "$1" '%s' "$v"
}

# ---------- gather -----------------------------------------------------------------------------

read_file cmdline /proc/cmdline ""
read_file online /sys/devices/system/cpu/online "0"
expand_list online_set "$online"
cpu_model=""
while IFS= read -r line; do
  case "$line" in "model name"*) cpu_model=${line#*: }; break ;; esac
done </proc/cpuinfo
kernel_release=""
read_file kernel_release /proc/sys/kernel/osrelease ""

cmdline_param p_isolcpus isolcpus
cmdline_param p_nohz nohz_full
cmdline_param p_rcu rcu_nocbs
cmdline_param p_irqaff irqaffinity
strip_flags isol_list "$p_isolcpus"
read_file kernel_isolated /sys/devices/system/cpu/isolated ""
read_file kernel_nohz /sys/devices/system/cpu/nohz_full ""
[ "$kernel_nohz" = "(null)" ] && kernel_nohz=""

# The isolated set IRQs are judged against: --cores, else the kernel's, else the boot line's.
target_cores=${kernel_isolated:-$isol_list}
[ -n "$cores" ] && target_cores=$cores
expand_list target_set "$target_cores"
housekeeping_set=""
for c in $online_set; do in_set "$c" "$target_set" || housekeeping_set+="${housekeeping_set:+ }$c"; done
compress_list housekeeping "$housekeeping_set"

irq_total=0
irq_on_target=0
irq_list=""
for f in /proc/irq/[0-9]*/smp_affinity_list; do
  [ -r "$f" ] || continue
  irq_total=$((irq_total + 1))
  [ -z "$target_set" ] && continue
  read_file aff_raw "$f" ""
  expand_list aff "$aff_raw"
  for c in $aff; do
    if in_set "$c" "$target_set"; then
      irq_on_target=$((irq_on_target + 1))
      n=${f#/proc/irq/}; irq_list+="${irq_list:+,}${n%%/*}"
      break
    fi
  done
done
read_file default_affinity /proc/irq/default_smp_affinity "?"
irqbalance=no
for d in /proc/[0-9]*; do
  comm=""
  read_file comm "$d/comm" ""
  [ "$comm" = irqbalance ] && { irqbalance=yes; break; }
done

governors=""
for g in /sys/devices/system/cpu/cpu[0-9]*/cpufreq/scaling_governor; do
  [ -r "$g" ] || continue
  read_file v "$g" ""
  in_set "$v" "$governors" || governors+="${governors:+ }$v"
done

hp_total="" hp_free="" hp_size=""
while read -r name value _; do
  case "$name" in
    HugePages_Total:) hp_total=$value ;;
    HugePages_Free:) hp_free=$value ;;
    Hugepagesize:) hp_size=$value ;;
  esac
done </proc/meminfo

read_file thp_raw /sys/kernel/mm/transparent_hugepage/enabled ""
bracketed thp "$thp_raw"
read_file thp_defrag_raw /sys/kernel/mm/transparent_hugepage/defrag ""
bracketed thp_defrag "$thp_defrag_raw"

sysctl_value busy_poll net.core.busy_poll
sysctl_value busy_read net.core.busy_read
sysctl_value swappiness vm.swappiness
sysctl_value timer_migration kernel.timer_migration
cs_dir=/sys/devices/system/clocksource/clocksource0
read_file clocksource $cs_dir/current_clocksource ""
read_file clocksources_raw $cs_dir/available_clocksource ""
read -r -a cs_words <<<"$clocksources_raw"
clocksources="${cs_words[*]-}"

# ---------- verdicts ---------------------------------------------------------------------------
# One row per setting: key, value, recommended, status, note. Keys are stable (schema 1).

keys=() values=() recs=() statuses=() notes=()
row() { keys+=("$1"); values+=("$2"); recs+=("$3"); statuses+=("$4"); notes+=("$5"); }
ok_if() { if "$@"; then st=ok; else st=untuned; fi; } # sets $st from a test command
want=${cores:-"<feed cores>"}

ok_if [ -n "$isol_list" ]
row isolcpus "${p_isolcpus:-none}" "managed_irq,domain,$want" $st \
  "boot parameter; kernel reports isolated: ${kernel_isolated:-none}"
ok_if [ -n "$p_nohz" ]
row nohz_full "${p_nohz:-none}" "$want" $st "boot parameter; kernel reports nohz_full: ${kernel_nohz:-none}"
ok_if [ -n "$p_rcu" ]
row rcu_nocbs "${p_rcu:-none}" "$want" $st "boot parameter"

if [ -z "$target_set" ]; then
  row irq_affinity "$irq_total IRQs, no isolated cores to judge" "none on isolated cores" untuned \
    "no isolated cores (kernel or --cores); default affinity $default_affinity${p_irqaff:+; irqaffinity=$p_irqaff}"
else
  ok_if [ "$irq_on_target" -eq 0 ]
  row irq_affinity "$irq_on_target of $irq_total IRQs may run on $target_cores" "0 on $target_cores" $st \
    "${irq_list:+IRQs: $irq_list}"
fi
if [ $irqbalance = yes ]; then ok_if [ -n "$isol_list" ]; v=running; else st=ok; v="not running"; fi
row irqbalance "$v" "not running, or banned from the feed cores" $st \
  "irqbalance moves IRQs back unless the cores are isolated or IRQBALANCE_BANNED_CPULIST is set"

if [ -z "$governors" ]; then
  row cpufreq_governor "not exposed" performance not_exposed "no cpufreq in sysfs (typical of VMs): the hypervisor sets the clock"
else
  ok_if [ "$governors" = performance ]
  row cpufreq_governor "$governors" performance $st ""
fi

if [ -z "$hp_total" ]; then
  row hugepages "not exposed" ">= $hugepages" not_exposed "no HugePages_Total in /proc/meminfo"
else
  ok_if [ "$hp_total" -ge "$hugepages" ]
  row hugepages "$hp_total" ">= $hugepages" $st \
    "free $hp_free, size ${hp_size} kB (nr_hugepages; hugetlbfs shm segments and rings)"
fi

if [ -z "$thp" ]; then
  row thp "not exposed" "madvise or never" not_exposed ""
else
  ok_if [ "$thp" != always ]
  row thp "$thp" "madvise or never" $st "defrag: ${thp_defrag:-?}"
fi

for k in busy_poll busy_read; do
  v=${!k}
  if [ -z "$v" ]; then row "$k" "not exposed" 50 not_exposed "net.core.$k missing"
  else ok_if [ "$v" -gt 0 ]; row "$k" "$v" 50 $st "net.core.$k, microseconds"; fi
done
if [ -z "$swappiness" ]; then row swappiness "not exposed" "<= 10" not_exposed ""
else ok_if [ "$swappiness" -le 10 ]; row swappiness "$swappiness" "<= 10" $st "vm.swappiness"; fi
if [ -z "$timer_migration" ]; then row timer_migration "not exposed" 0 not_exposed ""
else ok_if [ "$timer_migration" -eq 0 ]; row timer_migration "$timer_migration" 0 $st "kernel.timer_migration"; fi

if [ -z "$clocksource" ]; then
  row clocksource "not exposed" tsc not_exposed ""
elif [ "$clocksource" = tsc ]; then
  row clocksource tsc tsc ok "available: $clocksources"
else
  note="available: $clocksources"
  in_set tsc "$clocksources" || note+="; tsc not offered by this kernel (a VM's kvm-clock still reads via vDSO)"
  row clocksource "$clocksource" tsc untuned "$note"
fi

# ---------- check output -----------------------------------------------------------------------

if [ "$mode" = check ]; then
  ok=0 untuned=0 not_exposed=0
  for s in "${statuses[@]}"; do
    case "$s" in ok) ok=$((ok + 1)) ;; untuned) untuned=$((untuned + 1)) ;; *) not_exposed=$((not_exposed + 1)) ;; esac
  done
  cpu_count=0
  for c in $online_set; do cpu_count=$((cpu_count + 1)); done
  if [ $json = 1 ]; then
    out="{\"tool\":\"tune-host\",\"schema\":1"
    out+=",\"kernel\":"; json_str "$kernel_release"
    out+=",\"cpu\":"; json_str "$cpu_model"
    out+=",\"cpus_online\":"; json_str "$online"
    out+=",\"cpu_count\":$cpu_count,\"cores\":"; json_str "$cores"
    out+=",\"checks\":{"
    for i in "${!keys[@]}"; do
      [ "$i" -gt 0 ] && out+=","
      json_str "${keys[$i]}"
      out+=":{\"value\":"; json_str "${values[$i]}"
      out+=",\"recommended\":"; json_str "${recs[$i]}"
      out+=",\"status\":"; json_str "${statuses[$i]}"
      out+=",\"note\":"; json_str "${notes[$i]}"
      out+="}"
    done
    out+="},\"summary\":{\"ok\":$ok,\"untuned\":$untuned,\"not_exposed\":$not_exposed}}"
    printf '%s\n' "$out"
  else
    printf 'host: %s, kernel %s, CPUs online %s\n\n' "${cpu_model:-unknown CPU}" "$kernel_release" "$online"
    printf '%-17s %-36s %-34s %s\n' setting value recommended status
    for i in "${!keys[@]}"; do
      printf '%-17s %-36s %-34s %s\n' "${keys[$i]}" "${values[$i]}" "${recs[$i]}" "${statuses[$i]}"
      [ -n "${notes[$i]}" ] && printf '%-17s   %s\n' "" "${notes[$i]}"
    done
    printf '\n%d ok, %d untuned, %d not exposed. Apply: sudo %s --apply --cores LIST\n' \
      "$ok" "$untuned" "$not_exposed" "$0"
  fi
  exit 0
fi

# ---------- apply ------------------------------------------------------------------------------

if [ -z "$cores" ]; then echo "tune-host: --apply needs --cores LIST (the feed's cores)" >&2; exit 2; fi
for c in $target_set; do
  in_set "$c" "$online_set" || { echo "tune-host: core $c is not online ($online)" >&2; exit 2; }
done
if [ -z "$housekeeping_set" ]; then
  echo "tune-host: --cores $cores leaves no core for the kernel and other processes" >&2; exit 2
fi
if [ $dry_run = 0 ] && [ "$(id -u)" -ne 0 ]; then
  echo "tune-host: --apply needs root (or add --dry-run to see what it would do)" >&2; exit 2
fi

failed=0
changed=0
write() { # file value what: writes (or, with --dry-run, says it would)
  local file=$1 value=$2 what=$3 before
  read_file before "$file" "?"
  if [ $dry_run = 1 ]; then
    printf '  would set %-40s %s -> %s\n' "$what" "$before" "$value"; return 0
  fi
  if printf '%s\n' "$value" >"$file" 2>/dev/null; then
    read_file after "$file" "?"
    printf '  set %-46s %s -> %s\n' "$what" "$before" "$after"; changed=$((changed + 1))
  else
    printf '  FAILED %-43s (kept %s)\n' "$what" "$before"; failed=$((failed + 1))
  fi
}

printf 'tune-host --apply: feed cores %s, housekeeping cores %s%s\n' "$cores" "$housekeeping" \
  "$([ $dry_run = 1 ] && echo ' (dry run: nothing is written)')"

echo "IRQ affinity (to housekeeping cores $housekeeping):"
managed=0
for f in /proc/irq/[0-9]*/smp_affinity_list; do
  [ -r "$f" ] || continue
  read_file cur "$f" ""
  expand_list cur_set "$cur"
  hit=0
  for c in $cur_set; do in_set "$c" "$target_set" && { hit=1; break; }; done
  [ $hit = 1 ] || continue
  n=${f#/proc/irq/}; n=${n%%/*}
  if [ $dry_run = 1 ]; then write "$f" "$housekeeping" "irq $n"; continue; fi
  # Kernel-managed IRQs (per-queue NVMe/virtio vectors) refuse the write with EIO: only
  # isolcpus=managed_irq at boot moves them.
  if printf '%s\n' "$housekeeping" >"$f" 2>/dev/null; then
    read_file after "$f" "?"
    printf '  set %-46s %s -> %s\n' "irq $n" "$cur" "$after"; changed=$((changed + 1))
  else
    managed=$((managed + 1))
  fi
done
[ $managed -gt 0 ] && printf '  %d IRQs refused (kernel-managed): isolcpus=managed_irq,... moves them at boot\n' "$managed"
mask=""
# default_smp_affinity takes a hex mask in comma-separated 32-bit words, most significant first.
max_cpu=0
for c in $online_set; do [ "$c" -gt "$max_cpu" ] && max_cpu=$c; done
words=$((max_cpu / 32 + 1))
for ((w = words - 1; w >= 0; w--)); do
  v=0
  for c in $housekeeping_set; do [ $((c / 32)) -eq $w ] && v=$((v | (1 << (c % 32)))); done
  mask+="${mask:+,}$(printf '%08x' "$v")"
done
write /proc/irq/default_smp_affinity "$mask" "irq default_smp_affinity (new IRQs)"
[ $irqbalance = yes ] && printf '  note: irqbalance is running; set IRQBALANCE_BANNED_CPULIST=%s (or stop it), or it moves IRQs back\n' "$cores"

echo "CPU frequency governor:"
if [ -z "$governors" ]; then
  echo "  not exposed (no cpufreq in sysfs): nothing to do"
else
  for c in $target_set; do
    g=/sys/devices/system/cpu/cpu$c/cpufreq/scaling_governor
    if [ -e "$g" ]; then write "$g" performance "cpu$c scaling_governor"; fi
  done
fi

echo "Hugepages:"
if [ -n "$hp_total" ] && [ "$hp_total" -ge "$hugepages" ]; then
  printf '  %s reserved already (>= %s): left alone\n' "$hp_total" "$hugepages" # never shrinks a reservation
else
  write /proc/sys/vm/nr_hugepages "$hugepages" "vm.nr_hugepages"
fi
if [ $dry_run = 0 ]; then
  read_file got /proc/sys/vm/nr_hugepages 0
  [ "$got" -lt "$hugepages" ] && printf '  only %s of %s reserved (memory fragmented): reserve at boot with hugepages=%s\n' "$got" "$hugepages" "$hugepages"
fi

echo "Transparent hugepages:"
if [ "$thp" = always ]; then write /sys/kernel/mm/transparent_hugepage/enabled madvise "transparent_hugepage/enabled"
else printf '  enabled is %s: left alone\n' "${thp:-not exposed}"; fi

echo "Sysctls:"
declare -A want_sysctl=([net.core.busy_poll]=50 [net.core.busy_read]=50 [kernel.timer_migration]=0)
[ -n "$swappiness" ] && [ "$swappiness" -gt 10 ] && want_sysctl[vm.swappiness]=10
for k in net.core.busy_poll net.core.busy_read vm.swappiness kernel.timer_migration; do
  [ -n "${want_sysctl[$k]-}" ] || continue
  f=/proc/sys/${k//.//}
  if [ -e "$f" ]; then write "$f" "${want_sysctl[$k]}" "$k"; else printf '  %s: not in this kernel\n' "$k"; fi
done

echo "Clocksource:"
if [ "$clocksource" = tsc ]; then echo "  already tsc"
elif in_set tsc "$clocksources"; then write $cs_dir/current_clocksource tsc "current_clocksource"
else printf '  %s kept: tsc is not offered by this kernel\n' "${clocksource:-not exposed}"; fi

echo
echo "Needs a reboot (boot parameters are never edited here). Add to GRUB_CMDLINE_LINUX in"
echo "/etc/default/grub, then update-grub (or grub2-mkconfig -o /boot/grub2/grub.cfg) and reboot:"
printf '  isolcpus=managed_irq,domain,%s nohz_full=%s rcu_nocbs=%s irqaffinity=%s hugepages=%s\n' \
  "$cores" "$cores" "$cores" "$housekeeping" "$hugepages"
for p in "isolcpus:$isol_list" "nohz_full:$p_nohz" "rcu_nocbs:$p_rcu"; do
  name=${p%%:*}; val=${p#*:}
  if [ "$val" = "$cores" ]; then printf '  (%s=%s already on the running kernel)\n' "$name" "$val"; fi
done
echo
echo "Run-time settings above are lost at reboot; to keep the sysctls, put in /etc/sysctl.d/90-feedhandler.conf:"
printf '  net.core.busy_poll = 50\n  net.core.busy_read = 50\n  kernel.timer_migration = 0\n  vm.swappiness = 10\n  vm.nr_hugepages = %s\n' "$hugepages"
printf '\n%d changed, %d failed%s\n' "$changed" "$failed" "$([ $dry_run = 1 ] && echo ' (dry run)')"
[ $failed -eq 0 ]

# Log every read: descriptor, size asked for, bytes read, time in the call.
#
#   hijack run -s examples/count-reads.rb -- cat /etc/hostname | cat
$reads = 0
Hijack.on(:read) do |call|
  n = call.proceed
  $reads += 1
  Hijack.log "read ##{$reads} fd=#{call.fd} count=#{call.count} -> #{n} (#{call.elapsed} ns)"
  n
end

# Deny every open of a file whose name contains "secret", as if the file
# were unreadable, and say so in hijack's log.
#
#   hijack run -s examples/deny-secret.rb -- cat notes.txt secret.txt
Hijack.on(:open, :open64, :openat, :openat64) do |call|
  if File.basename(call.path.to_s).include?("secret")
    Hijack.log "hijack: denied #{call.name}(#{call.path.inspect})"
    raise Errno::EACCES
  end
  call.proceed
end
